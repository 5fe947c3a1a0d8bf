"""Action follow-up: the owner of an action from a plan is reminded privately on its due date.

The reminder goes at the start of the unit's daily window on the due date, or at the first allowed moment
after it when the date falls in quiet time (a deadline in the summer closure is reminded on the first day
back). Overdue actions are not chased day after day; they appear in the weekly summary instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.model import Effect, Header, Note, Reply, Text
from bot.course.audience import direct, language_of, organisation_of
from bot.course.jobs import Job, Skip, already_sent
from bot.course.toolbox_view import ActionLine, due_by_today, units_with_open_actions
from bot.course.unitcal import window_for
from bot.course.words import day_text
from bot.dates.calendar import local_at, next_allowed
from bot.i18n import t
from bot.storage.models import Member, Unit

# A reminder missed for longer than this (the bot was down) is not sent late; the summary lists it.
LATE_LIMIT = timedelta(days=3)


def reminder_key(action: ActionLine) -> str:
    # The due date is part of the key: a new deadline gets its own reminder.
    return f"action:{action.id}:{action.due.isoformat()}"


def _make(unit_id: int, action: ActionLine) -> Callable[[Session, datetime], list[Effect]]:
    def make(session: Session, now: datetime) -> list[Effect]:
        unit = session.get(Unit, unit_id)
        owner = session.get(Member, action.owner_id)
        if unit is None or owner is None:
            raise Skip
        language = language_of(owner, unit)
        title = t(language, "summary.action_reminder_title")
        text = t(language, "summary.action_reminder", text=action.text, day=day_text(language, action.due))
        reply = Reply(
            fallback=f"{title}: {text}",
            blocks=(Header(title), Text(text), Note(t(language, "summary.action_reminder_note"))),
        )
        return [direct(organisation_of(session, unit), owner, reply)]

    return make


def due_jobs(session: Session, now: datetime) -> list[Job]:
    jobs: list[Job] = []
    # Time zones differ by at most a day from UTC: a day of margin finds every unit with something due.
    candidates = units_with_open_actions(session, now.astimezone(UTC).date() + timedelta(days=1))
    if not candidates:
        return jobs
    for unit in session.scalars(select(Unit).where(Unit.id.in_(candidates)).order_by(Unit.id)):
        window = window_for(session, unit)
        today = now.astimezone(window.zone).date()
        actions = due_by_today(session, unit.id, now, today)
        if not actions:
            continue
        keys = [reminder_key(a) for a in actions]
        sent = already_sent(session, keys)
        for action, key in zip(actions, keys, strict=True):
            moment = next_allowed(local_at(action.due, window.start, window.zone), window).astimezone(UTC)
            if key not in sent and moment <= now.astimezone(UTC) < moment + LATE_LIMIT:
                jobs.append(Job(key, unit.id, _make(unit.id, action)))
    return jobs
