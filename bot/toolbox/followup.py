"""Follow-up: what the scheduler calls, and the data reminders and summaries are made of.

Scheduler hooks (each takes the session of one transaction and ``now``; messages go into the outbox in
that transaction, so the caller commits and then flushes delivery):

* :func:`close_due_votes` – closes dot votes whose deadline has passed and publishes their results;
* :func:`bot.toolbox.hora.due_meeting_followups` – asks organisers whether a meeting reached its result.

Data for the course rhythm and summaries: :func:`actions_due` (actions due today or overdue, not done,
with their owner).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat import delivery
from bot.chat.context import HandlerContext
from bot.chat.model import Actor, Command, Place, Platform
from bot.chat.steps import StepHooks
from bot.dates.days import local_today
from bot.i18n import normalise_language
from bot.settings import Settings
from bot.storage.models import Member, Organisation, Unit
from bot.toolbox import access, cases, voting
from bot.toolbox.hora import due_meeting_followups
from bot.toolbox.models_plan import ActionItem, Plan, Vote
from bot.toolbox.records import name_of

__all__ = [
    "DueAction",
    "actions_due",
    "close_due_votes",
    "due_meeting_followups",
    "system_context",
]


def system_context(
    session: Session, now: datetime, unit: Unit, steps: StepHooks, settings: Settings | None = None
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
        steps=steps,
    )


def close_due_votes(
    session: Session, now: datetime, steps: StepHooks, settings: Settings | None = None
) -> list[int]:
    """Close every open vote whose deadline is at or before ``now``; return their ids.

    A case's vote publishes its result in the case's thread and the case moves on to the plan; a
    standalone vote shows its result on its head message and in its thread. Rows are locked in the lock
    order (the case, then its vote; see bot/toolbox/access.py) and re-read, so each vote is closed and
    announced once, and a person closing the same vote at that moment cannot deadlock with us.
    """
    due = session.execute(
        select(Vote.id, Vote.case_id)
        .where(Vote.status == "open", Vote.deadline.is_not(None), Vote.deadline <= now)
        .order_by(Vote.deadline, Vote.id)
    ).all()
    closed = []
    for vote_id, case_id in due:
        case = access.lock_case(session, case_id) if case_id is not None else None
        vote = session.scalar(
            select(Vote)
            .where(Vote.id == vote_id, Vote.status == "open")
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if vote is None:
            continue  # closed meanwhile, or another replica is closing it
        unit = session.get(Unit, vote.unit_id)
        if unit is None:
            continue
        ctx = system_context(session, now, unit, steps, settings)
        if case is not None:
            voting.finish_case_vote(ctx, case)
            if case.step == "vote":
                cases.advance(ctx, case, "plan")
        elif voting.close(session, vote.id, None, now) is not None:
            voting.announce_standalone_close(ctx, vote)
        delivery.enqueue(session, ctx.effects, now, ctx.organisation.platform, ctx.organisation.external_id)
        closed.append(vote.id)
    return closed


# --------------------------------------------------------------------------------------------------
# Data for reminders and summaries
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueAction:
    """An action of an agreed plan that is due today or overdue and not done."""

    action_id: int
    case_id: int
    number: int
    text: str
    due: date
    overdue: bool
    owner_id: int
    owner_user_id: str
    owner_name: str
    owner_language: str | None


def actions_due(session: Session, unit_id: int, now: datetime) -> list[DueAction]:
    """Actions of the unit's agreed plans due on or before today (the unit's local day), not done.

    Only agreed plans count: an action in a draft plan is a proposal, not yet a promise. Oldest first.
    """
    unit = session.get(Unit, unit_id)
    if unit is None:
        return []
    today = local_today(now, unit.timezone)
    rows = session.execute(
        select(ActionItem, Plan.case_id, Member)
        .join(Plan, Plan.id == ActionItem.plan_id)
        .join(Member, Member.id == ActionItem.owner_id)
        .where(
            Plan.unit_id == unit_id,
            Plan.status == "agreed",
            ActionItem.done_at.is_(None),
            ActionItem.due <= today,
        )
        .order_by(ActionItem.due, ActionItem.id)
    ).all()
    return [
        DueAction(
            action_id=item.id,
            case_id=case_id,
            number=item.number,
            text=item.text,
            due=item.due,
            overdue=item.due < today,
            owner_id=owner.id,
            owner_user_id=owner.user_id,
            owner_name=name_of(owner),
            owner_language=owner.language,
        )
        for item, case_id, owner in rows
    ]
