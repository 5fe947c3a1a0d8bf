"""What the weekly summary and the action reminders read from the toolbox (cases, questions, ideas, votes,
actions), read defensively.

The toolbox is built by other parts of the project alongside the course rhythm; its tables are looked up by
name in the shared metadata and its follow-up hook by name, so a summary still goes out (with the section
left out) when a table is not there yet or has a column less. Every function returns None for "not
available" rather than raising.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

# The models are imported for their tables on Base.metadata, which this view reads.
import bot.toolbox.followup
import bot.toolbox.models
import bot.toolbox.models_plan
from bot.storage.models import Base, Member

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoteResult:
    title: str
    winner: str
    dots: int


@dataclass(frozen=True)
class ActionLine:
    id: int
    text: str
    owner_id: int
    owner_name: str
    due: date


def _table(name: str) -> Table | None:
    return Base.metadata.tables.get(name)


def _has(table: Table, *columns: str) -> bool:
    return all(c in table.c for c in columns)


def _safely(what: str, read: Callable[[], Any]) -> Any:
    try:
        return read()
    except (SQLAlchemyError, AttributeError, KeyError, TypeError, ValueError):
        log.warning("summary: %s could not be read; section left out", what, exc_info=True)
        return None


def steps() -> tuple[str, ...]:
    return tuple(bot.toolbox.models.STEPS)


def cases_by_step(session: Session, unit_id: int) -> dict[str, list[str | None]] | None:
    """Open cases' titles per step (None for a parties-only case)."""
    cases = _table("toolbox_case")
    if cases is None or not _has(cases, "unit_id", "title", "step", "closed_at"):
        return None

    # A parties-only case (the verneombud's confidentiality) is counted but not named: the summary may
    # reach a course admin who is not one of the parties.
    private = cases.c.parties_only if "parties_only" in cases.c else None

    def read() -> dict[str, list[str | None]]:
        columns = [cases.c.step, cases.c.title] + ([private] if private is not None else [])
        rows = session.execute(
            select(*columns)
            .where(cases.c.unit_id == unit_id, cases.c.closed_at.is_(None))
            .order_by(cases.c.id)
        ).all()
        found: dict[str, list[str | None]] = {}
        for row in rows:
            hidden = bool(row[2]) if private is not None else False
            found.setdefault(str(row[0]), []).append(None if hidden else str(row[1]))
        return found

    return _safely("cases", read)


def _count_new(
    session: Session, name: str, moment: str, unit_id: int, since: datetime, until: datetime
) -> int:
    table, cases = _table(name), _table("toolbox_case")
    if table is None or cases is None or not _has(table, "case_id", moment):
        raise KeyError(name)
    query = (
        select(func.count())
        .select_from(table.join(cases, cases.c.id == table.c.case_id))
        .where(cases.c.unit_id == unit_id, table.c[moment] >= since, table.c[moment] < until)
    )
    if "released" in table.c:
        query = query.where(table.c.released.is_(True))
    return int(session.scalar(query) or 0)


def new_questions_and_ideas(
    session: Session, unit_id: int, since: datetime, until: datetime
) -> tuple[int, int] | None:
    """Blind-spot questions shown and ideas added in [since, until). Anonymous questions count at their
    batch's release time, the only time stored for them."""

    def read() -> tuple[int, int]:
        table = _table("toolbox_question")
        moment = "released_at" if table is not None and "released_at" in table.c else "created_at"
        questions = _count_new(session, "toolbox_question", moment, unit_id, since, until)
        ideas = _count_new(session, "toolbox_idea", "created_at", unit_id, since, until)
        return questions, ideas

    return _safely("questions and ideas", read)


def closed_votes(session: Session, unit_id: int, since: datetime, until: datetime) -> list[VoteResult] | None:
    votes, options, dots = _table("vote"), _table("vote_option"), _table("vote_dot")
    if votes is None or options is None or dots is None:
        return None

    def read() -> list[VoteResult]:
        found = []
        rows = session.execute(
            select(votes.c.id, votes.c.title)
            .where(
                votes.c.unit_id == unit_id,
                votes.c.status == "closed",
                votes.c.closed_at >= since,
                votes.c.closed_at < until,
            )
            .order_by(votes.c.closed_at, votes.c.id)
        ).all()
        for vote_id, title in rows:
            labels = {
                option_id: (position, label)
                for option_id, position, label in session.execute(
                    select(options.c.id, options.c.position, options.c.label).where(
                        options.c.vote_id == vote_id
                    )
                )
            }
            tally = Counter(session.scalars(select(dots.c.option_id).where(dots.c.vote_id == vote_id)).all())
            if not tally:
                found.append(VoteResult(str(title), "", 0))
                continue
            # Ties go to the option listed first, as the vote itself shows them.
            best = max(tally.values())
            winner = min((o for o, n in tally.items() if n == best), key=lambda o: labels.get(o, (0, ""))[0])
            found.append(VoteResult(str(title), str(labels.get(winner, (0, ""))[1]), best))
        return found

    return _safely("votes", read)


def _agreed(plans: Table) -> list[Any]:
    """Only agreed plans' actions are promises (the toolbox's rule); a draft plan's are proposals."""
    return [plans.c.status == "agreed"] if "status" in plans.c else []


def _owner(session: Session, owner_id: int) -> str:
    member = session.get(Member, owner_id)
    return (member.display_name or member.user_id) if member else "?"


def _from_hook(session: Session, unit_id: int, now: datetime) -> list[ActionLine] | None:
    """The toolbox's ``actions_due(session, unit_id, now)``."""
    hook = bot.toolbox.followup.actions_due
    items = _safely("actions_due", lambda: list(hook(session, unit_id, now)))
    if items is None:
        return None
    try:
        return [
            ActionLine(
                int(getattr(a, "action_id", None) or a.id),
                str(a.text),
                int(a.owner_id),
                str(getattr(a, "owner_name", "") or _owner(session, int(a.owner_id))),
                a.due,
            )
            for a in items
        ]
    except (AttributeError, TypeError, ValueError):
        log.warning("actions_due returned something unexpected; reading the actions table instead")
        return None


def open_actions(session: Session, unit_id: int, until: date) -> list[ActionLine] | None:
    """Actions not done yet that are due on or before ``until`` (overdue ones included), soonest first."""
    actions, plans = _table("plan_action"), _table("plan")
    if actions is None or plans is None or not _has(actions, "plan_id", "text", "owner_id", "due", "done_at"):
        return None

    def read() -> list[ActionLine]:
        rows = session.execute(
            select(actions.c.id, actions.c.text, actions.c.owner_id, actions.c.due)
            .select_from(actions.join(plans, plans.c.id == actions.c.plan_id))
            .where(
                plans.c.unit_id == unit_id,
                actions.c.done_at.is_(None),
                actions.c.due <= until,
                *_agreed(plans),
            )
            .order_by(actions.c.due, actions.c.id)
        ).all()
        return [ActionLine(int(i), str(t), int(o), _owner(session, int(o)), d) for i, t, o, d in rows]

    return _safely("actions", read)


def actions_in(session: Session, unit_id: int, today: date, days: int) -> list[ActionLine] | None:
    return open_actions(session, unit_id, today + timedelta(days=days))


def due_by_today(session: Session, unit_id: int, now: datetime, today: date) -> list[ActionLine] | None:
    """Actions due today or overdue: part 2's ``actions_due`` when it exists, else the actions table."""
    hooked = _from_hook(session, unit_id, now)
    if hooked is not None:
        return sorted((a for a in hooked if a.due <= today), key=lambda a: (a.due, a.id))
    return open_actions(session, unit_id, today)


def units_with_open_actions(session: Session, until: date) -> list[int] | None:
    """Units that have an action not done and due on or before ``until``: the only ones worth a look."""
    actions, plans = _table("plan_action"), _table("plan")
    if actions is None or plans is None or not _has(actions, "plan_id", "due", "done_at"):
        return None

    def read() -> list[int]:
        return [
            int(u)
            for u in session.scalars(
                select(plans.c.unit_id)
                .distinct()
                .select_from(actions.join(plans, plans.c.id == actions.c.plan_id))
                .where(actions.c.done_at.is_(None), actions.c.due <= until, *_agreed(plans))
            )
        ]

    return _safely("units with actions", read)
