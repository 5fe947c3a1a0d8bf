"""Find solutions together: a plan with goal, obstacles, "how are we when the goal is reached?", actions
with an owner and a due date, and the parties' approvals.

Decision rule (bot/toolbox/decision.py): the representatives record their stances and the leder decides.
Only the case's steerers change the plan (bot/toolbox/access.py). Any change of content (goal, obstacle,
outcome, action) raises the revision, so stances given earlier no longer count and the head shows that
everyone must look again; the older ones stay as history. A decided plan ("agreed") is frozen; marking an
action done is follow-up, not a change, and is always allowed.

Also here: how calendar days are shown, used by plans, votes and HØRA alike (what people type is read by
:mod:`bot.dates.parse`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Block, Note, Text
from bot.dates.days import local_today
from bot.i18n import Translator, clock, raw
from bot.storage.models import Member
from bot.toolbox import access, decision
from bot.toolbox.models import Case
from bot.toolbox.models_plan import ActionItem, Approval, Obstacle, Plan
from bot.toolbox.records import name_of


def show_day(tr: Translator, day: date) -> str:
    """ "fredag 4.12." – with the year only when it is not obvious."""
    names = raw(tr.language, "plan.weekdays")
    weekday = names[day.weekday()] if isinstance(names, list) and len(names) == 7 else ""
    return tr("plan.day_format", weekday=weekday, day=day.day, month=day.month, year=day.year).strip()


def show_moment(tr: Translator, moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return tr("plan.moment_format", day=show_day(tr, local.date()), time=clock(tr.language, local.time()))


def show_deadline(tr: Translator, moment: datetime, timezone: str) -> str:
    """A deadline at midnight reads "til og med <the day before>", any other as day and time."""
    local = moment.astimezone(ZoneInfo(timezone))
    if local.time() == time(0, 0):
        return tr("plan.through", day=show_day(tr, local.date() - timedelta(days=1)))
    return show_moment(tr, moment, timezone)


# --------------------------------------------------------------------------------------------------
# The plan of a case
# --------------------------------------------------------------------------------------------------

MAX_PLAN_TEXT = 1000
MAX_ITEMS = 30


def plan_of(session: Session, case_id: int) -> Plan | None:
    return session.scalar(select(Plan).where(Plan.case_id == case_id))


def ensure_plan(ctx: HandlerContext, case: Case) -> Plan:
    plan = plan_of(ctx.session, case.id)
    if plan is None:
        plan = Plan(unit_id=case.unit_id, case_id=case.id, created_by_id=ctx.member.id, created_at=ctx.now)
        plan.updated_at = ctx.now
        ctx.session.add(plan)
        ctx.session.flush()
    return plan


def obstacles(session: Session, plan_id: int) -> list[Obstacle]:
    return list(
        session.scalars(select(Obstacle).where(Obstacle.plan_id == plan_id).order_by(Obstacle.number))
    )


def actions(session: Session, plan_id: int) -> list[ActionItem]:
    return list(
        session.scalars(select(ActionItem).where(ActionItem.plan_id == plan_id).order_by(ActionItem.number))
    )


def approvals(session: Session, plan: Plan) -> dict[str, Approval]:
    """The decision on the plan's current revision (role ``leder``), by role (see bot/toolbox/decision.py)."""
    rows = session.scalars(
        select(Approval).where(Approval.plan_id == plan.id, Approval.revision == plan.revision)
    )
    return {row.role: row for row in rows}


missing_roles = decision.missing_roles


def _changed(ctx: HandlerContext, plan: Plan) -> bool:
    """Before a change of content: refuse on a decided plan; start a new revision. Returns whether stances
    were given on the revision that is now replaced (they must be given again)."""
    if plan.status == "agreed":
        raise UserError("plan.frozen")
    had_voices = decision.had_voices(ctx.session, plan)
    plan.revision += 1
    plan.updated_at = ctx.now
    return had_voices


def set_goal(ctx: HandlerContext, plan: Plan, goal: str | None, outcome: str | None) -> bool:
    """Set the goal and/or "how are we when the goal is reached?"; ``False`` when nothing changed."""
    new_goal = ctx.text(goal, MAX_PLAN_TEXT) if goal is not None else plan.goal
    new_outcome = ctx.text(outcome, MAX_PLAN_TEXT) if outcome is not None else plan.outcome
    if (new_goal, new_outcome) == (plan.goal, plan.outcome):
        return False
    reset = _changed(ctx, plan)
    plan.goal, plan.outcome = new_goal, new_outcome
    return reset


def add_obstacle(ctx: HandlerContext, plan: Plan, text: str, remedy: str) -> bool:
    cleaned, how = ctx.text(text, MAX_PLAN_TEXT), ctx.text(remedy, MAX_PLAN_TEXT)
    existing = obstacles(ctx.session, plan.id)
    if any(o.text == cleaned and o.remedy == how for o in existing):
        raise UserError("errors.duplicate")
    if len(existing) >= MAX_ITEMS:
        raise UserError("plan.too_many", limit=MAX_ITEMS)
    reset = _changed(ctx, plan)
    number = max((o.number for o in existing), default=0) + 1
    ctx.session.add(
        Obstacle(
            plan_id=plan.id,
            number=number,
            text=cleaned,
            remedy=how,
            created_by_id=ctx.member.id,
            created_at=ctx.now,
        )
    )
    return reset


def add_action(
    ctx: HandlerContext,
    plan: Plan,
    text: str,
    owner: Member,
    due: date,
    timezone: str,
    indicator: str | None = None,
) -> bool:
    cleaned = ctx.text(text, MAX_PLAN_TEXT)
    if due < local_today(ctx.now, timezone):
        raise UserError("plan.due_past", day=show_day(ctx.t, due))
    existing = actions(ctx.session, plan.id)
    if any(a.text == cleaned and a.owner_id == owner.id and a.due == due for a in existing):
        raise UserError("errors.duplicate")
    if len(existing) >= MAX_ITEMS:
        raise UserError("plan.too_many", limit=MAX_ITEMS)
    reset = _changed(ctx, plan)
    number = max((a.number for a in existing), default=0) + 1
    ctx.session.add(
        ActionItem(
            plan_id=plan.id,
            number=number,
            text=cleaned,
            owner_id=owner.id,
            due=due,
            created_by_id=ctx.member.id,
            created_at=ctx.now,
            indicator=indicator,
        )
    )
    return reset


def remove_item(ctx: HandlerContext, plan: Plan, kind: str, number: int) -> bool:
    model = ActionItem if kind == "action" else Obstacle
    row = ctx.session.scalar(select(model).where(model.plan_id == plan.id, model.number == number))
    if row is None:
        raise UserError(f"plan.unknown_{kind}", number=number)
    reset = _changed(ctx, plan)
    ctx.session.delete(row)
    return reset


def find_action(session: Session, plan: Plan, number: int) -> ActionItem:
    item = session.scalar(
        select(ActionItem).where(ActionItem.plan_id == plan.id, ActionItem.number == number)
    )
    if item is None:
        raise UserError("plan.unknown_action", number=number)
    return item


def mark_done(ctx: HandlerContext, plan: Plan, number: int) -> ActionItem:
    """Follow-up, not a change of the plan: allowed on an agreed plan, for the owner or the trio."""
    item = ctx.session.scalar(
        select(ActionItem).where(ActionItem.plan_id == plan.id, ActionItem.number == number)
    )
    if item is None:
        raise UserError("plan.unknown_action", number=number)
    # Checked in the plan's own unit (SEC-16), not the unit the command came from.
    if not access.may_mark_action_done(ctx.session, ctx.organisation.id, ctx.member.id, plan, item.owner_id):
        raise UserError("plan.done_not_allowed")
    if item.done_at is not None:
        raise UserError("errors.duplicate")
    item.done_at = ctx.now
    item.done_by_id = ctx.member.id
    return item


# --------------------------------------------------------------------------------------------------
# What people see
# --------------------------------------------------------------------------------------------------


def action_line(tr: Translator, session: Session, item: ActionItem) -> str:
    owner = session.get(Member, item.owner_id)
    key = "plan.action_done" if item.done_at else "plan.action_line"
    return tr(key, number=item.number, text=item.text, owner=name_of(owner), due=show_day(tr, item.due))


def plan_lines(tr: Translator, session: Session, plan: Plan) -> list[str]:
    lines = [tr("plan.goal_line", text=plan.goal or tr("plan.not_yet"))]
    found = obstacles(session, plan.id)
    if found:
        lines.append(tr("plan.obstacles_title"))
        lines.extend(tr("plan.obstacle_line", number=o.number, text=o.text, remedy=o.remedy) for o in found)
    lines.append(tr("plan.outcome_line", text=plan.outcome or tr("plan.not_yet")))
    items = actions(session, plan.id)
    lines.append(tr("plan.actions_title") if items else tr("plan.no_actions"))
    lines.extend(action_line(tr, session, item) for item in items)
    return lines


def plan_blocks(tr: Translator, session: Session, plan: Plan) -> list[Block]:
    title = tr("plan.head_title", revision=plan.revision)
    return [
        Text(title + "\n" + "\n".join(plan_lines(tr, session, plan))),
        Note(decision.decision_text(tr, session, plan)),
    ]
