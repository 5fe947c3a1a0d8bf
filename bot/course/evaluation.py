"""The course evaluation: a baseline before module 1, a short evaluation after modules 1–5, and the same
questions again after module 6 ("Er du blitt bedre til å ta andres perspektiv?").

Anonymous like the check-in (see :mod:`bot.course.survey`). Results are shown only for closed rounds, and a
before/after comparison only when both rounds reached the minimum group size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.context import HandlerContext
from bot.course import survey
from bot.course.audience import members_of
from bot.course.models import CourseRun, EvaluationRound
from bot.course.plan import load_plan
from bot.course.privacy import MIN_GROUP_SIZE

# How long an evaluation stays open. Shift workers need a few working days to find a quiet moment.
OPEN_FOR = {"baseline": timedelta(days=10), "module": timedelta(days=7), "after": timedelta(days=14)}


def phase_kind(phase: str) -> str:
    """``module-3`` → ``module``; ``baseline`` and ``after`` stay."""
    return phase.split("-", 1)[0]


def phase_module(phase: str) -> int | None:
    kind, _, number = phase.partition("-")
    return int(number) if kind == "module" and number.isdigit() else None


def questions_for(phase: str) -> tuple[str, ...]:
    return load_plan().evaluation.get(phase_kind(phase), ())


def find_round(session: Session, run_id: int, phase: str) -> EvaluationRound | None:
    return session.scalar(
        select(EvaluationRound).where(EvaluationRound.run_id == run_id, EvaluationRound.phase == phase)
    )


def open_round(session: Session, run: CourseRun, phase: str, now: datetime) -> EvaluationRound:
    """The run's round for ``phase``, opened now if it does not exist yet."""
    found = find_round(session, run.id, phase)
    if found is not None:
        return found
    round_ = EvaluationRound(
        run_id=run.id,
        phase=phase,
        opened_at=now,
        closes_at=now + OPEN_FOR.get(phase_kind(phase), timedelta(days=7)),
        member_count=len(members_of(session, run.unit_id)),
        answer_count=0,
        comments=[],
    )
    session.add(round_)
    session.flush()
    survey.create_tallies(session, round_, questions_for(phase))
    return round_


def is_open(round_: EvaluationRound, now: datetime) -> bool:
    return round_.opened_at <= now < round_.closes_at


def answer(ctx: HandlerContext, round_: EvaluationRound, scores: dict[str, int], comment: str) -> None:
    """The person's marker now, their answer in a transaction of its own (see :mod:`bot.course.survey`)."""
    survey.answer(ctx, round_, scores, comment)


@dataclass(frozen=True)
class Comparison:
    """Before/after means per question. ``rows`` is empty while hidden; ``reason`` says why."""

    rows: tuple[tuple[str, float | None, float | None], ...]
    reason: str  # "shown" | "not_yet" | "too_few"
    before_count: int
    after_count: int


def compare(session: Session, run_id: int, now: datetime, min_group: int = MIN_GROUP_SIZE) -> Comparison:
    before = find_round(session, run_id, "baseline")
    after = find_round(session, run_id, "after")
    counts = (before.answer_count if before else 0, after.answer_count if after else 0)
    if before is None or after is None or after.closes_at > now or before.closes_at > now:
        return Comparison((), "not_yet", *counts)
    before_means = survey.means(session, before, questions_for("baseline"), min_group)
    after_means = survey.means(session, after, questions_for("after"), min_group)
    if before_means is None or after_means is None:
        return Comparison((), "too_few", *counts)
    rows = tuple(
        (q, before_means.get(q), after_means.get(q)) for q in questions_for("after") if q in after_means
    )
    return Comparison(rows, "shown", *counts)


def module_results(
    session: Session, run_id: int, now: datetime, min_group: int = MIN_GROUP_SIZE
) -> dict[int, dict[str, float] | None]:
    """Means per closed module evaluation (None where too few answered)."""
    results: dict[int, dict[str, float] | None] = {}
    rounds = session.scalars(
        select(EvaluationRound).where(
            EvaluationRound.run_id == run_id, EvaluationRound.phase.like("module-%")
        )
    )
    for round_ in rounds:
        number = phase_module(round_.phase)
        if number is None or round_.closes_at > now:
            continue
        results[number] = survey.means(session, round_, questions_for(round_.phase), min_group)
    return dict(sorted(results.items()))
