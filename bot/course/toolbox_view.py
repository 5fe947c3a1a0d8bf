"""What the weekly summary and the action reminders read from the toolbox: typed queries of its models.

Parties-only material fails closed: a summary names a parties-only case, its vote or its actions only
when the caller says every reader may see it (``parties_only_visible``, decided with
:func:`bot.toolbox.access.party_only_visible_to_all`); otherwise it is counted without a name, or left out.
A vote's result agrees with the vote itself (:func:`bot.toolbox.voting.winners`): a tie is a tie.

Programming errors are not swallowed here: a bug in a query fails the job (and is logged by the
scheduler), instead of quietly sending a summary with a section missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import Session

from bot.storage.models import Member, Unit
from bot.toolbox import voting
from bot.toolbox.models import STEPS, Case, Idea, Question
from bot.toolbox.models_plan import ActionItem, Plan, Vote


@dataclass(frozen=True)
class VoteResult:
    title: str
    # The first place: one option, or several when tied; empty when nobody voted.
    winners: tuple[str, ...]
    dots: int
    # The vote belongs to a parties-only case the readers may not see: shown without title or options.
    hidden: bool = False


@dataclass(frozen=True)
class ActionLine:
    id: int
    text: str
    owner_id: int
    owner_name: str
    due: date


def steps() -> tuple[str, ...]:
    return tuple(STEPS)


def _shown(parties_only_visible: bool) -> ColumnElement[bool]:
    """Cases whose content may be named to the readers."""
    return true() if parties_only_visible else Case.parties_only.is_(False)


def cases_by_step(
    session: Session, unit_id: int, *, parties_only_visible: bool = False
) -> dict[str, list[str | None]]:
    """Open cases' titles per step; a parties-only case the readers may not see is counted as None."""
    rows = session.execute(
        select(Case.step, Case.title, Case.parties_only)
        .where(Case.unit_id == unit_id, Case.closed_at.is_(None))
        .order_by(Case.id)
    ).all()
    found: dict[str, list[str | None]] = {}
    for step, title, private in rows:
        found.setdefault(step, []).append(None if private and not parties_only_visible else title)
    return found


def new_questions_and_ideas(
    session: Session, unit_id: int, since: datetime, until: datetime, *, parties_only_visible: bool = False
) -> tuple[int, int]:
    """Blind-spot questions shown and ideas added in [since, until), in cases the readers may see.
    Anonymous questions count at their batch's release time, the only time stored for them."""
    moment = func.coalesce(Question.released_at, Question.created_at)
    questions = session.scalar(
        select(func.count())
        .select_from(Question)
        .join(Case, Case.id == Question.case_id)
        .where(
            Case.unit_id == unit_id,
            _shown(parties_only_visible),
            Question.released.is_(True),
            Question.struck_at.is_(None),
            moment >= since,
            moment < until,
        )
    )
    ideas = session.scalar(
        select(func.count())
        .select_from(Idea)
        .join(Case, Case.id == Idea.case_id)
        .where(
            Case.unit_id == unit_id,
            _shown(parties_only_visible),
            Idea.struck_at.is_(None),
            Idea.created_at >= since,
            Idea.created_at < until,
        )
    )
    return int(questions or 0), int(ideas or 0)


def closed_votes(
    session: Session, unit_id: int, since: datetime, until: datetime, *, parties_only_visible: bool = False
) -> list[VoteResult]:
    rows = session.execute(
        select(Vote, Case.parties_only)
        .outerjoin(Case, Case.id == Vote.case_id)
        .where(
            Vote.unit_id == unit_id,
            Vote.status == "closed",
            Vote.closed_at >= since,
            Vote.closed_at < until,
        )
        .order_by(Vote.closed_at, Vote.id)
    ).all()
    found = []
    for vote, private in rows:
        if private and not parties_only_visible:
            found.append(VoteResult("", (), 0, hidden=True))
            continue
        top = voting.winners(session, vote)
        dots = next((p.dots for p in voting.results(session, vote) if p.place == 1), 0)
        found.append(VoteResult(vote.title, tuple(o.label for o in top), dots if top else 0))
    return found


def _actions_query(
    unit_id: int | None, until: date, parties_only_visible: bool
) -> Select[ActionItem, Member]:
    # Only decided plans' actions are promises (the toolbox's rule); a draft plan's are proposals.
    query = (
        select(ActionItem, Member)
        .join(Plan, Plan.id == ActionItem.plan_id)
        .join(Case, Case.id == Plan.case_id)
        .join(Member, Member.id == ActionItem.owner_id)
        .where(
            Plan.status == "agreed",
            ActionItem.done_at.is_(None),
            ActionItem.due <= until,
            _shown(parties_only_visible),
        )
        .order_by(ActionItem.due, ActionItem.id)
    )
    return query.where(Plan.unit_id == unit_id) if unit_id is not None else query


def _line(item: ActionItem, owner: Member) -> ActionLine:
    return ActionLine(item.id, item.text, owner.id, owner.display_name or owner.user_id, item.due)


def open_actions(
    session: Session, unit_id: int, until: date, *, parties_only_visible: bool = False
) -> list[ActionLine]:
    """Actions not done yet that are due on or before ``until`` (overdue ones included), soonest first."""
    return [_line(i, o) for i, o in session.execute(_actions_query(unit_id, until, parties_only_visible))]


def actions_in(
    session: Session, unit_id: int, today: date, days: int, *, parties_only_visible: bool = False
) -> list[ActionLine]:
    return open_actions(
        session, unit_id, today + timedelta(days=days), parties_only_visible=parties_only_visible
    )


def due_within(session: Session, unit_id: int, until: date) -> list[ActionLine]:
    """Actions not done and due on or before ``until``, for reminders to their owner and follow-up by the
    case's steerers: both may see the case, so parties-only plans are included."""
    if session.get(Unit, unit_id) is None:
        return []
    return open_actions(session, unit_id, until, parties_only_visible=True)


def due_by_today(session: Session, unit_id: int, now: datetime, today: date) -> list[ActionLine]:
    """Actions due today or overdue, for the reminder to their owner. The owner is told about their own
    action only, so parties-only plans are included (the owner was given the action by the parties)."""
    if session.get(Unit, unit_id) is None:
        return []
    return open_actions(session, unit_id, today, parties_only_visible=True)


def units_with_open_actions(session: Session, until: date) -> list[int]:
    """Units that have an action not done and due on or before ``until``: the only ones worth a look."""
    return [
        int(u)
        for u in session.scalars(
            select(Plan.unit_id)
            .distinct()
            .join(ActionItem, ActionItem.plan_id == Plan.id)
            .where(ActionItem.done_at.is_(None), ActionItem.due <= until, Plan.status == "agreed")
        )
    ]


__all__ = [
    "ActionLine",
    "VoteResult",
    "actions_in",
    "cases_by_step",
    "closed_votes",
    "due_by_today",
    "due_within",
    "new_questions_and_ideas",
    "open_actions",
    "steps",
    "units_with_open_actions",
]
