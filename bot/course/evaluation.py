"""The course evaluation: a baseline before module 1, a short evaluation after modules 1–5, and the same
questions again after module 6 ("Er du blitt bedre til å ta andres perspektiv?").

Anonymous like the check-in (see :mod:`bot.course.survey`). Results are shown only for closed rounds, and a
before/after comparison only when both rounds reached the minimum group size.

The digital modules are for the trio: three people, so their module evaluation never reaches the minimum
group size in one kindergarten, and its figures are never shown for it alone. They are shown only pooled
with the same module's evaluation in the other kindergartens of the organisation (:func:`pooled_module`),
only when the *other* kindergartens' answers reach the minimum by themselves – so a trio that compares
notes and knows all three of its own answers still learns nothing finer than a group of five – and in
pools that never overlap, so no two shown figures can be subtracted. The trio is told so when it is asked
(``evaluation.trio_note``).
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
from bot.storage.models import Unit

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


@dataclass(frozen=True)
class Pooled:
    """A module's evaluation over the organisation's kindergartens: ``means`` is None while hidden."""

    module: int
    means: dict[str, float] | None
    units: int  # kindergartens whose answers are in the pool
    answers: int
    own: int  # answers from this kindergarten


def pooled_module(
    session: Session, run: CourseRun, module: int, now: datetime, min_group: int = MIN_GROUP_SIZE
) -> Pooled:
    """Module ``module``'s closed evaluation in the kindergartens of ``run``'s organisation, pooled.

    Shown only when the answers *outside* any one kindergarten reach ``min_group``: whoever knows every
    answer of their own kindergarten can then only learn an aggregate of at least ``min_group`` others.
    And pools never overlap: the first time a pool is shown its rounds are marked with it
    (``EvaluationRound.pool``) and stay in it; rounds that close later can only form a pool of their own.
    A pool that grew after it was shown would give away the newcomers' answers by subtraction."""
    phase = f"module-{module}"
    unit = session.get(Unit, run.unit_id)
    own = find_round(session, run.id, phase)
    if unit is None or own is None or own.closes_at > now:
        return Pooled(module, None, 0, 0, 0)
    if own.pool is not None:
        members = list(
            session.scalars(
                select(EvaluationRound).where(
                    EvaluationRound.pool == own.pool, EvaluationRound.phase == phase
                )
            )
        )
        return _pooled(session, run, module, members, min_group)
    free = list(
        session.scalars(
            select(EvaluationRound)
            .join(CourseRun, CourseRun.id == EvaluationRound.run_id)
            .join(Unit, Unit.id == CourseRun.unit_id)
            .where(
                Unit.organisation_id == unit.organisation_id,
                EvaluationRound.phase == phase,
                EvaluationRound.pool.is_(None),
                EvaluationRound.closes_at <= now,
            )
            .order_by(EvaluationRound.id)
            .with_for_update()
        )
    )
    found = _pooled(session, run, module, free, min_group)
    if found.means is not None:
        for round_ in free:
            round_.pool = free[0].id  # shown now: this pool is fixed
    return found


def _pooled(
    session: Session, run: CourseRun, module: int, rounds: list[EvaluationRound], min_group: int
) -> Pooled:
    units: dict[int, int] = {}
    for round_ in rounds:
        owner = session.get(CourseRun, round_.run_id)
        if owner is not None:
            units[owner.unit_id] = units.get(owner.unit_id, 0) + round_.answer_count
    total = sum(units.values())
    own = units.get(run.unit_id, 0)
    if len(units) < 2 or total - max(units.values(), default=0) < min_group:
        return Pooled(module, None, len(units), total, own)
    means = survey.pooled_means(session, rounds, questions_for(f"module-{module}"), min_group)
    return Pooled(module, means or None, len(units), total, own)
