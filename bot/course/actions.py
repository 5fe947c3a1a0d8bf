"""Action follow-up until the goal is reached.

* Two working days before the due date the owner is reminded privately, and again on the day.
* The first working day after a missed due date the case's steerers (its starter and the trio of its
  unit, not the owner) are asked "who has a word with …?": overdue actions are not chased day after day,
  they appear in the weekly summary too.
* When the last action is done the case asks its own question again (:mod:`handlers.plan`).

A reminder goes at the start of the unit's daily window, or at the first allowed moment after it when the
day falls in quiet time (a deadline in the summer closure is reminded on the first day back). Every
reminder has its own ledger key with the due date in it, so a new deadline gets new reminders.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.model import Effect, Header, Note, Reply, Text
from bot.course.audience import direct, language_of, organisation_of, trio_of
from bot.course.jobs import Job, Skip, already_sent
from bot.course.plan import shift_working_days
from bot.course.toolbox_view import ActionLine, due_within, units_with_open_actions
from bot.course.unitcal import window_for
from bot.course.words import day_text
from bot.dates.calendar import DeliveryWindow, local_at, next_allowed
from bot.i18n import t
from bot.storage.models import Member, Unit
from bot.toolbox.models import Case
from bot.toolbox.models_plan import ActionItem, Plan

# A reminder missed for longer than this (the bot was down) is not sent late; the summary lists it.
LATE_LIMIT = timedelta(days=3)
BEFORE_WORKING_DAYS = 2
# Two working days can span a weekend and a holiday or two: look this far ahead for actions.
LOOKAHEAD = timedelta(days=7)


def reminder_key(action: ActionLine, kind: str = "") -> str:
    # The due date is part of the key: a new deadline gets its own reminders.
    base = f"action:{action.id}:{action.due.isoformat()}"
    return f"{base}:{kind}" if kind else base


def _reply(title: str, text: str, note: str) -> Reply:
    return Reply(fallback=f"{title}: {text}", blocks=(Header(title), Text(text), Note(note)))


def _to_owner(unit_id: int, action: ActionLine, before: bool) -> Callable[[Session, datetime], list[Effect]]:
    def make(session: Session, now: datetime) -> list[Effect]:
        unit = session.get(Unit, unit_id)
        owner = session.get(Member, action.owner_id)
        if unit is None or owner is None:
            raise Skip
        language = language_of(owner, unit)
        day = day_text(language, action.due)
        if before:
            title = t(language, "followup.before_title")
            text = t(language, "followup.before", text=action.text, day=day)
        else:
            title = t(language, "summary.action_reminder_title")
            text = t(language, "summary.action_reminder", text=action.text, day=day)
        reply = _reply(title, text, t(language, "summary.action_reminder_note"))
        return [direct(organisation_of(session, unit), owner, reply)]

    return make


def steerers(session: Session, case: Case, unit: Unit) -> list[Member]:
    """Who steers a case: its starter and the trio of its own unit (the access policy's rule)."""
    people = {m.id: m for m in trio_of(session, unit.id)}
    starter = session.get(Member, case.started_by_id) if case.started_by_id else None
    if starter is not None:
        people.setdefault(starter.id, starter)
    return list(people.values())


def _to_steerers(unit_id: int, action: ActionLine) -> Callable[[Session, datetime], list[Effect]]:
    def make(session: Session, now: datetime) -> list[Effect]:
        unit = session.get(Unit, unit_id)
        item = session.get(ActionItem, action.id)
        plan = session.get(Plan, item.plan_id) if item else None
        case = session.get(Case, plan.case_id) if plan else None
        if unit is None or item is None or case is None or item.done_at is not None:
            raise Skip
        org = organisation_of(session, unit)
        effects: list[Effect] = []
        for person in steerers(session, case, unit):
            if person.id == action.owner_id:
                continue  # the owner got their own reminders; this asks the others to help
            language = language_of(person, unit)
            text = t(
                language,
                "followup.overdue",
                text=action.text,
                case=case.id,
                owner=action.owner_name,
                day=day_text(language, action.due),
            )
            note = t(language, "followup.overdue_note", case=case.id)
            title = t(language, "followup.overdue_title")
            effects.append(direct(org, person, _reply(title, text, note)))
        return effects

    return make


def _start(day: date, window: DeliveryWindow) -> datetime:
    return next_allowed(local_at(day, window.start, window.zone), window).astimezone(UTC)


def due_jobs(session: Session, now: datetime) -> list[Job]:
    jobs: list[Job] = []
    moment_now = now.astimezone(UTC)
    # Time zones differ by at most a day from UTC: a day of margin finds every unit with something due.
    candidates = units_with_open_actions(session, moment_now.date() + LOOKAHEAD + timedelta(days=1))
    if not candidates:
        return jobs
    for unit in session.scalars(select(Unit).where(Unit.id.in_(candidates)).order_by(Unit.id)):
        window = window_for(session, unit)
        today = now.astimezone(window.zone).date()
        actions = due_within(session, unit.id, today + LOOKAHEAD)
        if not actions:
            continue
        wanted: list[tuple[str, Callable[[Session, datetime], list[Effect]]]] = []
        for action in actions:
            due_start = _start(action.due, window)
            before = _start(shift_working_days(action.due, -BEFORE_WORKING_DAYS, window), window)
            # "In two working days" is only true until the day itself: no late "before" reminders.
            if before <= moment_now < min(before + timedelta(days=1), due_start):
                wanted.append((reminder_key(action, "before"), _to_owner(unit.id, action, True)))
            if due_start <= moment_now < due_start + LATE_LIMIT:
                wanted.append((reminder_key(action), _to_owner(unit.id, action, False)))
            # The day after the reminder day (a due date in quiet time is reminded on the first day back).
            reminded_on = due_start.astimezone(window.zone).date()
            overdue = _start(shift_working_days(reminded_on, 1, window), window)
            if overdue <= moment_now < overdue + LATE_LIMIT:
                wanted.append((reminder_key(action, "overdue"), _to_steerers(unit.id, action)))
        sent = already_sent(session, [key for key, _ in wanted])
        jobs.extend(Job(key, unit.id, make) for key, make in wanted if key not in sent)
    return jobs
