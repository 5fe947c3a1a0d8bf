"""Finding a case and deciding who may see and steer it.

Visibility is checked on every way in (thread, button, form, command with ``#12``): a case a person may
not see answers exactly like a case that does not exist, so a parties-only case does not even reveal
that it exists.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import access
from bot.chat.context import HandlerContext, UserError
from bot.toolbox.models import Case

_CASE_REF = re.compile(r"^#(\d+)\b\s*")


def can_see(ctx: HandlerContext, case: Case) -> bool:
    """See :func:`bot.access.may_see_case` (the one policy)."""
    return access.may_see_case(ctx.session, ctx.organisation.id, ctx.member.id, case)


def can_steer(ctx: HandlerContext, case: Case) -> bool:
    """See :func:`bot.access.may_steer_case` (the one policy)."""
    return access.may_steer_case(ctx.session, ctx.organisation.id, ctx.member.id, case)


def load_case(ctx: HandlerContext, case_id: int) -> Case:
    """The case with ``case_id`` if this person may see it; otherwise "unknown case" (never "hidden")."""
    # Locked for the rest of the event (PostgreSQL; SQLite already writes one at a time): numbering an idea
    # or a version, or moving the step, reads and then writes, and two people at once must not collide.
    # Later steps take their own locks after this one, always in that order (the lock order in
    # bot/access.py).
    case = ctx.session.get(Case, case_id, with_for_update=True)
    if case is None or not can_see(ctx, case):
        raise UserError("case.unknown", number=case_id)
    return case


def case_id_from_key(key: str | None) -> int | None:
    """``case:12:head`` (or any ``case:12:…`` key) → 12."""
    parts = (key or "").split(":")
    if len(parts) >= 2 and parts[0] == "case" and parts[1].isdigit():
        return int(parts[1])
    return None


def case_from_thread(ctx: HandlerContext) -> Case | None:
    """The case whose thread the event came from, ``None`` outside a case thread."""
    case_id = case_id_from_key(ctx.thread_key)
    return load_case(ctx, case_id) if case_id is not None else None


def case_from_value(ctx: HandlerContext, value: str) -> Case:
    """A button value or form context that starts with the case id (``"12"``, ``"12:define"``)."""
    head = value.split(":", 1)[0]
    if not head.isdigit():
        raise UserError("errors.unknown_action")
    return load_case(ctx, int(head))


def split_case_ref(args: str) -> tuple[int | None, str]:
    """``"#12 rest"`` → ``(12, "rest")``; no leading ``#number`` → ``(None, args)``."""
    match = _CASE_REF.match(args.strip())
    if match is None:
        return None, args.strip()
    return int(match.group(1)), args.strip()[match.end() :]


def resolve_case(ctx: HandlerContext, args: str, usage: str) -> tuple[Case, str]:
    """The case a command is about: ``#12`` first in its arguments, else the thread it was typed in."""
    number, rest = split_case_ref(args)
    if number is not None:
        return load_case(ctx, number), rest
    case = case_from_thread(ctx)
    if case is None:
        raise UserError("case.which", usage=usage)
    return case, rest


def require_step(case: Case, *steps: str) -> None:
    if case.step not in steps:
        raise UserError(f"case.wrong_step.{case.step}", number=case.id)


def require_steer(ctx: HandlerContext, case: Case) -> None:
    if not can_steer(ctx, case):
        raise UserError("case.not_allowed")


def visible_cases(ctx: HandlerContext, *, include_closed: bool = False) -> list[Case]:
    """Cases of the person's unit they may see, newest first (parties-only ones filtered out for staff)."""
    unit = ctx.require_unit()
    if not access.is_member(ctx.session, unit.id, ctx.member.id):
        return []
    query = (
        select(Case)
        .where(Case.unit_id == unit.id, access.visible_case_clause(ctx.session, ctx.member.id))
        .order_by(Case.id.desc())
    )
    if not include_closed:
        query = query.where(Case.closed_at.is_(None))
    return list(ctx.session.scalars(query))
