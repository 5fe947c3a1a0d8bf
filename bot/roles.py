"""The roles (partene): the words people use for them, and the one place that looks up who holds which.

Only granted roles (``RoleAssignment``) count here; a pending claim (``RoleClaim``) gives nothing. Every
check of "is this person leder / a representative / one of the parties in this unit" goes through
:func:`roles_of` or :func:`holders` (and :mod:`bot.toolbox.access` on top of them), so there is one answer.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.storage.models import PARTY_ROLES, REPRESENTATIVE_ROLES, ROLES, Member, RoleAssignment

# Every word maps to the canonical (bokmål) role name stored in the database. Multi-word titles are
# matched before single words (see :func:`parse_roles`).
ROLE_WORDS: dict[str, str] = {
    "leder": "leder", "leiar": "leder", "leader": "leder", "manager": "leder",
    "styrer": "leder", "styrar": "leder", "daglig leder": "leder", "dagleg leiar": "leder",
    "enhetsleder": "leder", "einingsleiar": "leder", "head": "leder",
    "verneombud": "verneombud", "verneombod": "verneombud", "vo": "verneombud",
    "safety": "verneombud", "safety representative": "verneombud",
    "hovedverneombud": "hovedverneombud", "hovudverneombod": "hovedverneombud", "hvo": "hovedverneombud",
    "chief safety representative": "hovedverneombud",
    "tillitsvalgt": "tillitsvalgt", "tillitsvald": "tillitsvalgt", "tv": "tillitsvalgt",
    "union": "tillitsvalgt", "union representative": "tillitsvalgt",
    "ansatt": "ansatt", "tilsett": "ansatt", "medarbeider": "ansatt", "medarbeidar": "ansatt",
    "staff": "ansatt", "employee": "ansatt",
}  # fmt: skip

# Staff titles people type as if they were roles. "pedagogisk leder" is an employee, not the employer
# side: answered kindly, never mistaken for "leder".
STAFF_TITLES = (
    "pedagogisk leder", "pedagogisk leiar", "pedleder", "ped. leder", "pedagogical leader",
    "barnehagelærer", "barnehagelærar", "fagarbeider", "fagarbeidar", "assistent", "assistant",
    "barne- og ungdomsarbeider", "barne- og ungdomsarbeidar", "teacher",
)  # fmt: skip


def _clean(word: str) -> str:
    return " ".join(word.strip().lower().strip(".,;:!?").split())


def parse_role(word: str) -> str | None:
    return ROLE_WORDS.get(_clean(word))


def is_staff_title(text: str) -> bool:
    return _clean(text) in STAFF_TITLES


def suggest_role(word: str) -> str | None:
    """The role word a typo most likely meant ("vernombud" → "verneombud"), or None."""
    found = difflib.get_close_matches(_clean(word), list(ROLE_WORDS), n=1, cutoff=0.75)
    return found[0] if found else None


def parse_roles(text: str) -> tuple[list[str], str]:
    """Leading role words of ``text`` (one- to three-word titles) and the rest: ``"daglig leder Kari"`` →
    (["leder"], "Kari")."""
    words = text.split()
    found: list[str] = []
    index = 0
    while index < len(words):
        for size in (3, 2, 1):
            role = parse_role(" ".join(words[index : index + size])) if index + size <= len(words) else None
            if role is not None:
                if role not in found:
                    found.append(role)
                index += size
                break
        else:
            break
    return found, " ".join(words[index:])


# --------------------------------------------------------------------------------------------------
# The one role lookup
# --------------------------------------------------------------------------------------------------


# The statements behind every access check, built once: building a statement and its cache key cost more
# than running it (bench_serve's `/parts rolle`, py-spy).
_ROLES_OF = select(RoleAssignment.role).where(
    RoleAssignment.unit_id == bindparam("unit_id"), RoleAssignment.member_id == bindparam("member_id")
)
_HOLDS = (
    select(RoleAssignment.id)
    .where(
        RoleAssignment.unit_id == bindparam("unit_id"),
        RoleAssignment.member_id == bindparam("member_id"),
        RoleAssignment.role.in_(bindparam("roles", expanding=True)),
    )
    .limit(1)
)
_MEMBERS_BY_ROLE = (
    select(RoleAssignment.role, Member)
    .join(Member, Member.id == RoleAssignment.member_id)
    .where(RoleAssignment.unit_id == bindparam("unit_id"))
    .order_by(Member.display_name, Member.id)
)
_MEMBERS_WITH_ROLE = _MEMBERS_BY_ROLE.where(RoleAssignment.role == bindparam("role"))


def roles_of(session: Session, unit_id: int, member_id: int) -> list[str]:
    """Granted roles of a member in a unit, in the canonical order."""
    held = set(session.scalars(_ROLES_OF, {"unit_id": unit_id, "member_id": member_id}))
    return [role for role in ROLES if role in held]


def holds(session: Session, unit_id: int, member_id: int, roles: Iterable[str]) -> bool:
    wanted = list(roles)
    if not wanted:
        return False
    parameters = {"unit_id": unit_id, "member_id": member_id, "roles": wanted}
    return session.scalar(_HOLDS, parameters) is not None


def members_with_role(session: Session, unit_id: int, role: str) -> list[Member]:
    return [
        member for _role, member in session.execute(_MEMBERS_WITH_ROLE, {"unit_id": unit_id, "role": role})
    ]


def members_by_role(session: Session, unit_id: int) -> dict[str, list[Member]]:
    """Everyone with a role in a unit, role → members (by name), in one query."""
    found: dict[str, list[Member]] = {}
    for role, member in session.execute(_MEMBERS_BY_ROLE, {"unit_id": unit_id}):
        found.setdefault(role, []).append(member)
    return found


def party_members(session: Session, unit_id: int) -> dict[str, list[Member]]:
    """The trio present in a unit: role → members (a role nobody holds is left out)."""
    found = members_by_role(session, unit_id)
    return {role: found[role] for role in PARTY_ROLES if found.get(role)}


def party_people(session: Session, unit_id: int) -> list[Member]:
    """Everyone who holds a party role in the unit, each once."""
    seen: dict[int, Member] = {}
    for people in party_members(session, unit_id).values():
        for member in people:
            seen.setdefault(member.id, member)
    return list(seen.values())


def party_unit_ids(session: Session, member_id: int) -> set[int]:
    """Units where the member holds a party role."""
    return set(
        session.scalars(
            select(RoleAssignment.unit_id).where(
                RoleAssignment.member_id == member_id, RoleAssignment.role.in_(PARTY_ROLES)
            )
        )
    )


def primary_role(session: Session, unit_id: int, member_id: int) -> str | None:
    """The role someone speaks as: the party role if they hold one, else ansatt."""
    held = roles_of(session, unit_id, member_id)
    return held[0] if held else None


def is_representative_role(role: str) -> bool:
    return role in REPRESENTATIVE_ROLES


def conflicts(role: str, held: Iterable[str]) -> str | None:
    """The held role that cannot go with ``role`` in one unit (the employer side and an employee
    representative), or None. Several representatives' roles together are normal."""
    for other in held:
        if role == "leder" and other in REPRESENTATIVE_ROLES:
            return other
        if role in REPRESENTATIVE_ROLES and other == "leder":
            return other
    return None
