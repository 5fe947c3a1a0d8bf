"""Follow-up: what the scheduler calls, and the data reminders and summaries are made of.

Scheduler hooks (each takes the session of one transaction and ``now``; messages go into the outbox in
that transaction, so the caller commits and then flushes delivery):

* :func:`close_due_votes` – closes dot votes whose deadline has passed and publishes their results;
* :func:`bot.toolbox.hora.due_meeting_followups` – asks organisers whether a meeting reached its result.

Data for the course rhythm and summaries: :func:`actions_due` (actions due today or overdue, not done,
with their owner) and :func:`plan_summary` (a case's plan: goal, obstacles, actions, approvals).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat import delivery
from bot.chat.context import HandlerContext
from bot.chat.model import Actor, Command, Place, Platform
from bot.i18n import normalise_language
from bot.settings import Settings
from bot.storage.models import Member, Organisation, Unit
from bot.toolbox import cases, voting
from bot.toolbox.hora import due_meeting_followups
from bot.toolbox.models import Case
from bot.toolbox.models_plan import Vote

__all__ = ["close_due_votes", "due_meeting_followups", "system_context"]


def system_context(
    session: Session, now: datetime, unit: Unit, settings: Settings | None = None
) -> HandlerContext:
    """A handler context for what the bot does on its own (a deadline passing), not for a person.

    Its member is a stand-in that is never stored, so nothing is recorded as done by a real person.
    """
    org = session.get(Organisation, unit.organisation_id)
    assert org is not None
    bot_member = Member(organisation_id=org.id, user_id="partsbot", display_name="Partsbot")
    place = Place(cast(Platform, org.platform), org.external_id, unit.channel_id)
    return HandlerContext(
        session=session,
        settings=settings or Settings(),
        now=now,
        event=Command(Actor("partsbot", "Partsbot"), place, ""),
        organisation=org,
        member=bot_member,
        unit=unit,
        language=normalise_language(unit.language),
    )


def close_due_votes(session: Session, now: datetime, settings: Settings | None = None) -> list[int]:
    """Close every open vote whose deadline is at or before ``now``; return their ids.

    A case's vote publishes its result in the case's thread and the case moves on to the plan; a
    standalone vote shows its result on its head message and in its thread. Rows are locked (skipping
    ones another replica is closing), so each vote is closed and announced once.
    """
    due = session.scalars(
        select(Vote)
        .where(Vote.status == "open", Vote.deadline.is_not(None), Vote.deadline <= now)
        .order_by(Vote.deadline, Vote.id)
        .with_for_update(skip_locked=True)
    ).all()
    closed = []
    for vote in due:
        unit = session.get(Unit, vote.unit_id)
        if unit is None:
            continue
        ctx = system_context(session, now, unit, settings)
        case = session.get(Case, vote.case_id) if vote.case_id is not None else None
        if case is not None:
            voting.finish_case_vote(ctx, case)
            if case.step == "vote":
                cases.advance(ctx, case, "plan")
        elif voting.close(session, vote.id, None, now) is not None:
            voting.announce_standalone_close(ctx, vote)
        delivery.enqueue(session, ctx.effects, now, ctx.organisation.platform, ctx.organisation.external_id)
        closed.append(vote.id)
    return closed
