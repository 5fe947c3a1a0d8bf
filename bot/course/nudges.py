"""Due nudges of a course run: planned from the nudge plan, moved out of quiet time, and sent when due.

``replan`` turns the plan into :class:`DueNudge` rows for one run, already moved out of the unit's quiet
time, and is called again whenever a module moves or the unit's calendar changes. ``due_jobs`` hands the
due ones to the scheduler, which sends each exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from bot.chat.model import Block, Button, Buttons, Effect, Header, Note, Reply, Text
from bot.course import evaluation, exchange, reflection, shared
from bot.course.audience import effects_for
from bot.course.jobs import Job, Skip
from bot.course.models import CourseModule, CourseRun, DueNudge, SendLedger
from bot.course.plan import Plan, load_plan, occurrences
from bot.course.privacy import MIN_GROUP_SIZE
from bot.course.unitcal import local_week, window_for
from bot.course.words import module_name, when_text
from bot.dates.calendar import next_allowed
from bot.i18n import catalogue, t
from bot.storage.models import Unit

log = logging.getLogger(__name__)

# After an outage longer than this, a nudge is not sent late: a week-old exercise is noise, and a restart
# after a long stop must not send a backlog all at once. A restart within a weekend loses nothing.
STALE_AFTER = timedelta(days=3)


# Due nudges of a run -----------------------------------------------------------------------------------


def module_starts(session: Session, run_id: int) -> dict[int, datetime]:
    rows = session.scalars(select(CourseModule).where(CourseModule.run_id == run_id))
    return {m.number: m.starts_at for m in rows}


def run_key(run_id: int, occurrence_key: str) -> str:
    return f"run:{run_id}:{occurrence_key}"


def replan(session: Session, run: CourseRun, now: datetime, plan: Plan | None = None) -> int:
    """Recompute the run's pending nudges from its module dates and the unit's calendar.

    Sent nudges are never planned again (their keys are in the ledger). Pending nudges already due stay as
    they are: the next tick sends them, so a replan during an outage loses nothing. A new nudge whose moment
    has passed is dropped, except a before-module one while its module is still ahead, which goes at the
    next allowed moment. Returns how many nudges are pending now.
    """
    plan = plan or load_plan()
    unit = session.get(Unit, run.unit_id)
    if unit is None:
        return 0
    window = window_for(session, unit)
    prefix = run_key(run.id, "")
    sent = set(session.scalars(select(SendLedger.key).where(SendLedger.key.startswith(prefix))))
    session.execute(
        delete(DueNudge).where(
            DueNudge.run_id == run.id,
            or_(
                (DueNudge.status == "pending") & (DueNudge.due_at > now),
                DueNudge.status == "expired",
            ),
        )
    )
    kept = set(session.scalars(select(DueNudge.key).where(DueNudge.run_id == run.id)))
    pending = (
        session.scalar(select(func.count()).where(DueNudge.run_id == run.id, DueNudge.status == "pending"))
        or 0
    )
    for occ in occurrences(plan, module_starts(session, run.id), window):
        key = run_key(run.id, occ.key)
        if key in sent or key in kept:
            continue
        due = next_allowed(occ.raw, window)
        if due < now:
            if occ.expires is None or now >= occ.expires:
                continue
            due = next_allowed(now, window)
        if occ.same_week and local_week(due, window) != local_week(occ.raw, window):
            log.info("nudge %s falls in a closed week; dropped", key)
            continue
        if occ.expires is not None and due >= occ.expires:
            log.info("nudge %s would arrive after its module started; dropped", key)
            continue
        session.add(
            DueNudge(
                run_id=run.id,
                key=key,
                nudge_id=occ.spec.id,
                module=occ.module,
                audience=occ.audience,
                text_key=occ.spec.text.format(**occ.values),
                kind=occ.spec.kind,
                phase=occ.spec.phase,
                values=occ.values,
                due_at=due,
                expires_at=occ.expires,
            )
        )
        pending += 1
    session.flush()
    return pending


def cancel_pending(session: Session, run_id: int) -> None:
    session.execute(delete(DueNudge).where(DueNudge.run_id == run_id, DueNudge.status == "pending"))


# Sending -----------------------------------------------------------------------------------------------


def _title(language: str, nudge: DueNudge, values: dict[str, Any]) -> str:
    key = f"nudges_text.titles.{nudge.nudge_id}"
    if key not in catalogue(language):
        key = "nudges_text.titles.default"
    return t(language, key, **values)


def render_nudge(session: Session, nudge: DueNudge, unit: Unit, language: str, round_id: int | None) -> Reply:
    starts = module_starts(session, nudge.run_id)
    kinds = load_plan().module_kinds
    number = nudge.module
    following = starts.get(number + 1)
    values: dict[str, Any] = {
        **nudge.values,
        "unit": unit.name,
        "module": number,
        "module_name": module_name(language, number, kinds[number]),
        "when": when_text(language, starts[number], unit.timezone) if number in starts else "",
        "next_module_name": module_name(language, number + 1, kinds[number + 1]) if following else "",
        "next_when": when_text(language, following, unit.timezone) if following else "",
    }
    title = _title(language, nudge, values)
    text = t(language, nudge.text_key, **values)
    blocks: list[Block] = [Header(title), Text(text)]
    if round_id is not None and nudge.kind == "reflection":
        blocks.append(
            Buttons(
                (
                    Button(
                        t(language, "reflection.answer_button"), "reflection.open", str(round_id), "primary"
                    ),
                )
            )
        )
        blocks.append(Note(t(language, "reflection.anonymous_note", min=reflection.MIN_ANSWERS)))
    elif round_id is not None:
        blocks.append(
            Buttons(
                (
                    Button(
                        t(language, "evaluation.answer_button"), "evaluation.open", str(round_id), "primary"
                    ),
                )
            )
        )
        if nudge.audience == "trio":
            # Three people: their figures are never shown for this kindergarten alone (evaluation.py).
            blocks.append(Note(t(language, "evaluation.trio_note", min=MIN_GROUP_SIZE)))
        else:
            blocks.append(Note(t(language, "evaluation.anonymous_note")))
    if nudge.kind == "meeting":
        value = f"{unit.id}:{number}"
        blocks.append(
            Buttons((Button(t(language, "gathering.button"), "course.hora_draft", value, "primary"),))
        )
        blocks.append(Note(t(language, "gathering.lead_together")))
    return Reply(fallback=f"{title}: {text}", blocks=tuple(blocks))


def _make(nudge_id: int) -> Callable[[Session, datetime], list[Effect]]:
    def make(session: Session, now: datetime) -> list[Effect]:
        nudge = session.get(DueNudge, nudge_id)
        if nudge is None or nudge.status != "pending" or nudge.due_at > now:
            raise Skip  # replanned meanwhile
        run = session.get(CourseRun, nudge.run_id)
        unit = session.get(Unit, run.unit_id) if run else None
        if run is None or unit is None or run.status != "active":
            raise Skip
        round_id = None
        nudge.status = "sent"
        nudge.sent_at = now
        if nudge.kind == "evaluation":
            phase = nudge.phase if nudge.phase != "module" else f"module-{nudge.module}"
            round_id = evaluation.open_round(session, run, phase, now).id
        elif nudge.kind == "reflection":
            round_id = reflection.open_round(session, run, nudge.module, now).id
        elif nudge.kind == "digest":
            # Before a module: the reflections of the module before it; after one: its own.
            module = nudge.module - 1 if nudge.expires_at is not None else nudge.module
            return reflection.digest_effects(session, run, module)
        elif nudge.kind == "results":
            return effects_for(
                session,
                unit,
                nudge.audience,
                lambda lang, _m: shared.render(session, run, unit.name, now, lang),
            )
        elif nudge.kind == "exchange":
            return exchange.nudge_effects(session, run, unit, now)
        return effects_for(
            session, unit, nudge.audience, lambda lang, _m: render_nudge(session, nudge, unit, lang, round_id)
        )

    return make


def due_jobs(session: Session, now: datetime) -> list[Job]:
    """Pending nudges that are due; expired before-module ones are marked and left out."""
    rows = session.scalars(
        select(DueNudge).where(DueNudge.status == "pending", DueNudge.due_at <= now).order_by(DueNudge.due_at)
    ).all()
    jobs = []
    for nudge in rows:
        if nudge.expires_at is not None and now >= nudge.expires_at:
            log.info("nudge %s expired before it could be sent (its module has started)", nudge.key)
            nudge.status = "expired"
            continue
        if nudge.due_at < now - STALE_AFTER:
            log.warning("nudge %s was due %s and is too old to send now; left out", nudge.key, nudge.due_at)
            nudge.status = "missed"
            continue
        run = session.get(CourseRun, nudge.run_id)
        jobs.append(Job(nudge.key, run.unit_id if run else 0, _make(nudge.id)))
    return jobs


def next_at(session: Session, now: datetime) -> datetime | None:
    """When the next pending nudge is due (after ``now``)."""
    return session.scalar(
        select(func.min(DueNudge.due_at)).where(DueNudge.status == "pending", DueNudge.due_at > now)
    )
