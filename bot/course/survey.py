"""Anonymous answers on a 1–5 scale, shared by the check-in and the evaluation.

An answer is folded into counts per (question, score) and a comment is put at a random place in the round's
list; a separate record notes only that the member has answered. So the stored data holds no link from a
person to what they answered, no answer order, and not even which scores went together in one answer
(in small workplaces, combinations of answers identify people).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.course.models import (
    CheckinRespondent,
    CheckinRound,
    CheckinTally,
    EvaluationRespondent,
    EvaluationRound,
    EvaluationTally,
)
from bot.course.privacy import MIN_COMMENT_GROUP, MIN_GROUP_SIZE, SCALE_MAX, SCALE_MIN, aggregate_scores
from bot.course.privacy import visible_comments as _visible_comments

MAX_COMMENT = 500

AnyRound = CheckinRound | EvaluationRound


class AlreadyAnswered(Exception):
    """This member has answered the round already; the answer cannot be found again to replace it."""


def _models(round_: AnyRound) -> tuple[Any, Any]:
    """The tally and respondent tables of a round's kind (same columns, different foreign keys)."""
    if isinstance(round_, CheckinRound):
        return CheckinTally, CheckinRespondent
    return EvaluationTally, EvaluationRespondent


def create_tallies(session: Session, round_: AnyRound, questions: Iterable[str]) -> None:
    """Every (question, score) row with count 0, written when the round opens."""
    tally, _ = _models(round_)
    for question in questions:
        for score in range(SCALE_MIN, SCALE_MAX + 1):
            session.add(tally(round_id=round_.id, question=question, score=score, count=0))


def has_answered(session: Session, round_: AnyRound, member_id: int) -> bool:
    _, respondent = _models(round_)
    return session.get(respondent, (round_.id, member_id)) is not None


def respondents(session: Session, round_: AnyRound) -> set[int]:
    _, respondent = _models(round_)
    return set(session.scalars(select(respondent.member_id).where(respondent.round_id == round_.id)))


def record(
    session: Session,
    round_: AnyRound,
    member_id: int,
    scores: Mapping[str, int],
    comment: str = "",
) -> None:
    """Fold one answer into the round. Raises :class:`AlreadyAnswered` for a second answer."""
    tally, respondent = _models(round_)
    if has_answered(session, round_, member_id):
        raise AlreadyAnswered
    session.add(respondent(round_id=round_.id, member_id=member_id))
    rows = {
        (row.question, row.score): row
        for row in session.scalars(select(tally).where(tally.round_id == round_.id)).all()
    }
    for question, score in scores.items():
        row = rows.get((question, score))
        if row is None:
            raise ValueError(f"no tally for {question}={score}")
        row.count += 1
    text = comment.strip()[:MAX_COMMENT]
    if text:
        comments = list(round_.comments or [])
        comments.insert(secrets.randbelow(len(comments) + 1), text)
        round_.comments = comments
    round_.answer_count += 1
    session.flush()


def counts(session: Session, round_: AnyRound) -> dict[str, dict[int, int]]:
    tally, _ = _models(round_)
    found: dict[str, dict[int, int]] = {}
    for row in session.scalars(select(tally).where(tally.round_id == round_.id)):
        found.setdefault(row.question, {})[row.score] = row.count
    return found


def _pseudo_answers(per_question: Mapping[str, Mapping[int, int]]) -> list[dict[str, int]]:
    """Answer-shaped rows with the same score distribution per question, for ``aggregate_scores``.

    They are not the real answers (those are not stored): row i holds the i-th score of each question, which
    gives the same per-question means and coverage.
    """
    columns = {
        q: sorted(s for s, n in scores.items() for _ in range(n)) for q, scores in per_question.items()
    }
    size = max((len(v) for v in columns.values()), default=0)
    return [{q: v[i] for q, v in columns.items() if i < len(v)} for i in range(size)]


def means(
    session: Session, round_: AnyRound, questions: Sequence[str], min_group: int = MIN_GROUP_SIZE
) -> dict[str, float] | None:
    """Mean per question (one decimal), or None below the minimum group size."""
    if round_.answer_count < min_group:
        return None
    return aggregate_scores(_pseudo_answers(counts(session, round_)), questions, min_group)


def visible_comments(round_: AnyRound, min_comments: int = MIN_COMMENT_GROUP) -> list[str]:
    return _visible_comments(round_.comments or [], round_.answer_count, min_comments)
