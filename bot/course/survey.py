"""Anonymous answers on a 1–5 scale, shared by the check-in and the evaluation.

What is stored: counts per (round, question, score), the round's answer count and its comments in random
order, and separately a marker per person saying only that they have answered (so reminders go to the
others and nobody answers twice). Never a row per answer, so not even which scores went together in one
answer is kept (in small workplaces, combinations of answers identify people).

How an answer is written so that nothing an operator can read links it to the person (issue 10, SEC-02):

1. The **marker** is written in the event's own transaction, together with the private "thank you"
   receipt. That transaction holds nothing about the answer.
2. The **answer** is folded in afterwards, in a transaction of its own (:meth:`HandlerContext.detach`)
   that names nobody: it locks the round row (``SELECT … FOR UPDATE``; SQLite serialises writers anyway),
   then rewrites *every* tally row of the round (``count = count + 0 or 1`` in one statement) and the
   round row (answer count, comments with the new one at a random place).

So on PostgreSQL all tally rows and the round row of a round carry one and the same ``xmin`` – the last
answer's – and the same physical order (``ctid``) whatever was answered: the last fold touches every row,
and its ``xmin`` tells only who answered last, which the totals do not break down. Rows keep their
composite keys (no sequence numbers per answer), and there are no timestamps.

Why not a pool of individual answers folded in batches: while waiting, pool rows would be readable one
per answer, with ``xmin``/``ctid`` order matching the markers', which is the link we must avoid. Folding
at once into rows that every answer rewrites gives the pool's "batch" property for free: every visible
row is the sum of all answers so far.

Concurrency: the row lock makes concurrent answers queue instead of overwriting each other's counts
(code review B1 lost 9 of 12 answers that way), and the count is incremented in SQL, not in Python.

What remains and is said in the README: with one or two answers in a round, the totals *are* those
answers, and the markers say who gave them; results are therefore never shown below
:data:`~bot.course.privacy.MIN_GROUP_SIZE`, and markers are deleted when the round closes. Someone who
copies the database after every single answer can subtract totals; no storage scheme prevents that short
of not storing answers. If the fold keeps failing after the marker committed, the marker is removed and
the person is asked to answer again, so an answer is never counted twice nor silently dropped.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.chat.context import HandlerContext
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


def forget_respondents(session: Session, round_: AnyRound) -> int:
    """Delete the round's "has answered" markers (done when it closes: nobody needs them any more)."""
    _, respondent = _models(round_)
    result = session.execute(delete(respondent).where(respondent.round_id == round_.id))
    return int(getattr(result, "rowcount", 0) or 0)


def mark_answered(session: Session, round_: AnyRound, member_id: int) -> None:
    """The person's marker, alone. Raises :class:`AlreadyAnswered` for a second answer."""
    _, respondent = _models(round_)
    if has_answered(session, round_, member_id):
        raise AlreadyAnswered
    session.add(respondent(round_id=round_.id, member_id=member_id))
    session.flush()


def unmark(session: Session, round_: AnyRound, member_id: int) -> None:
    _, respondent = _models(round_)
    session.execute(
        delete(respondent).where(respondent.round_id == round_.id, respondent.member_id == member_id)
    )


def _check(session: Session, round_: AnyRound, scores: Mapping[str, int]) -> None:
    tally, _ = _models(round_)
    known = set(session.execute(select(tally.question, tally.score).where(tally.round_id == round_.id)))
    for question, score in scores.items():
        if (question, score) not in known:
            raise ValueError(f"no tally for {question}={score}")


def fold(session: Session, round_: AnyRound, scores: Mapping[str, int], comment: str = "") -> None:
    """Add one answer to the round's totals, rewriting every tally row of the round (see module doc).

    Call it in a transaction that writes nothing about the person who answered.
    """
    tally, _ = _models(round_)
    locked = _locked(session, round_)
    picked = [and_(tally.question == q, tally.score == s) for q, s in scores.items()]
    increment = case((or_(*picked), 1), else_=0) if picked else 0
    session.execute(
        update(tally).where(tally.round_id == locked.id).values(count=tally.count + increment),
        execution_options={"synchronize_session": False},
    )
    text = comment.strip()[:MAX_COMMENT]
    comments = list(locked.comments or [])
    if text:
        comments.insert(secrets.randbelow(len(comments) + 1), text)
    # Always rewritten, with or without a comment, so the round row changes the same way for every answer.
    locked.comments = comments
    locked.answer_count = locked.answer_count + 1
    session.flush()


def _locked(session: Session, round_: AnyRound) -> AnyRound:
    """The round row, locked until commit, freshly read: concurrent folds queue here."""
    if isinstance(round_, CheckinRound):
        query = select(CheckinRound).where(CheckinRound.id == round_.id)
        return session.scalars(query.with_for_update().execution_options(populate_existing=True)).one()
    found = select(EvaluationRound).where(EvaluationRound.id == round_.id)
    return session.scalars(found.with_for_update().execution_options(populate_existing=True)).one()


def answer(ctx: HandlerContext, round_: AnyRound, scores: Mapping[str, int], comment: str = "") -> None:
    """A person's answer from a handler: the marker now, the answer in a transaction of its own later.

    Raises :class:`AlreadyAnswered` for a second answer (nothing is written then).
    """
    _check(ctx.session, round_, scores)
    mark_answered(ctx.session, round_, ctx.member.id)
    member_id = ctx.member.id
    answered = dict(scores)
    area = "checkin" if isinstance(round_, CheckinRound) else "evaluation"

    def write(later: HandlerContext) -> None:
        fold(later.session, _locked(later.session, round_), answered, comment)

    def undo(later: HandlerContext) -> None:
        unmark(later.session, round_, member_id)
        later.private(later.t(f"{area}.lost"))

    ctx.detach(f"{area}.answer", write, undo)


def record(
    session: Session,
    round_: AnyRound,
    member_id: int,
    scores: Mapping[str, int],
    comment: str = "",
) -> None:
    """Marker and answer in the caller's transaction: for building test data and the fixtures of tools
    that read results. Handlers use :func:`answer`, which keeps the two apart."""
    _check(session, round_, scores)
    mark_answered(session, round_, member_id)
    fold(session, round_, scores, comment)


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


def _degenerate(per_question: Mapping[str, Mapping[int, int]]) -> dict[str, int]:
    """Questions everyone answered alike, with that one score."""
    found = {}
    for question, scores in per_question.items():
        used = [score for score, n in scores.items() if n]
        if len(used) == 1:
            found[question] = used[0]
    return found


def band(score: int) -> tuple[int, int]:
    """The interval shown instead of a unanimous score: one step wide, containing it."""
    low = min(score, SCALE_MAX - 1)
    return low, low + 1


def means(
    session: Session, round_: AnyRound, questions: Sequence[str], min_group: int = MIN_GROUP_SIZE
) -> dict[str, float] | None:
    """Mean per question (one decimal), or None below the minimum group size.

    A question everyone answered with the same score is left out (see :func:`bands`): its mean would be
    every single person's answer (SEC-15)."""
    if round_.answer_count < min_group:
        return None
    per_question = counts(session, round_)
    shown = aggregate_scores(_pseudo_answers(per_question), questions, min_group)
    if shown is None:
        return None
    unanimous = _degenerate(per_question)
    return {q: v for q, v in shown.items() if q not in unanimous}


def pooled_means(
    session: Session, rounds: Sequence[AnyRound], questions: Sequence[str], min_group: int = MIN_GROUP_SIZE
) -> dict[str, float] | None:
    """Means over the tallies of several rounds together (never below ``min_group`` answers in all, and
    never a question everyone answered alike), for results that no single group reaches on its own. The
    caller decides which rounds may be pooled (see :func:`bot.course.evaluation.pooled_module`)."""
    merged: dict[str, dict[int, int]] = {}
    for round_ in rounds:
        for question, scores in counts(session, round_).items():
            into = merged.setdefault(question, {})
            for score, number in scores.items():
                into[score] = into.get(score, 0) + number
    if sum(r.answer_count for r in rounds) < min_group:
        return None
    shown = aggregate_scores(_pseudo_answers(merged), questions, min_group)
    if shown is None:
        return None
    unanimous = _degenerate(merged)
    return {q: v for q, v in shown.items() if q not in unanimous}


def bands(
    session: Session, round_: AnyRound, questions: Sequence[str], min_group: int = MIN_GROUP_SIZE
) -> dict[str, tuple[int, int]]:
    """Questions everyone answered alike, as a band (``(4, 5)``) rather than the exact, shared score."""
    if round_.answer_count < min_group:
        return {}
    unanimous = _degenerate(counts(session, round_))
    return {q: band(unanimous[q]) for q in questions if q in unanimous}


def visible_comments(round_: AnyRound, min_comments: int = MIN_COMMENT_GROUP) -> list[str]:
    return _visible_comments(round_.comments or [], round_.answer_count, min_comments)
