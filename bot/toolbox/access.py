"""Finding a case and deciding who may see and steer it.

Visibility is checked on every way in (thread, button, form, command with ``#12``): a case a person may
not see answers exactly like a case that does not exist, so a parties-only case does not even reveal
that it exists.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.context import HandlerContext, UserError
from bot.roles import roles_of
from bot.storage.models import PARTY_ROLES, Membership, Unit
from bot.toolbox.models import Case

_CASE_REF = re.compile(r"^#(\d+)\b\s*")
# "1" as well as "#1" (people leave the # out), but only as a word of its own: "12.12." is a date.
_BARE_REF = re.compile(r"^(\d{1,9})(?=\s|$)\s*")


def _is_party(session: Session, unit_id: int, member_id: int) -> bool:
    return bool(set(roles_of(session, unit_id, member_id)) & set(PARTY_ROLES))


def can_see(ctx: HandlerContext, case: Case) -> bool:
    """Members of the case's unit see its cases; a parties-only case only the trio and its starter."""
    unit = ctx.session.get(Unit, case.unit_id)
    if unit is None or unit.organisation_id != ctx.organisation.id:
        return False
    if ctx.session.get(Membership, (case.unit_id, ctx.member.id)) is None:
        return False
    if not case.parties_only:
        return True
    return case.started_by_id == ctx.member.id or _is_party(ctx.session, case.unit_id, ctx.member.id)


def can_steer(ctx: HandlerContext, case: Case) -> bool:
    """The case owner (its starter) or the party trio of its unit may close steps and set deadlines."""
    if not can_see(ctx, case):
        return False
    return case.started_by_id == ctx.member.id or _is_party(ctx.session, case.unit_id, ctx.member.id)


def load_case(ctx: HandlerContext, case_id: int) -> Case:
    """The case with ``case_id`` if this person may see it; otherwise "unknown case" (never "hidden")."""
    # Locked for the rest of the event (PostgreSQL; SQLite already writes one at a time): numbering an idea
    # or a version, or moving the step, reads and then writes, and two people at once must not collide.
    # Later steps take their own locks after this one, always in that order.
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
    bare = _BARE_REF.match(args.strip())
    if bare is not None:
        try:
            return load_case(ctx, int(bare.group(1))), args.strip()[bare.end() :]
        except UserError:
            pass  # no such case: the number belongs to the rest (a date, a count)
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
    query = select(Case).where(Case.unit_id == unit.id).order_by(Case.id.desc())
    if not include_closed:
        query = query.where(Case.closed_at.is_(None))
    return [case for case in ctx.session.scalars(query) if can_see(ctx, case)]
