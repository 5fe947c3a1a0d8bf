"""The four roles (partene) and the words people use for them in bokmål, nynorsk and English."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import PARTY_ROLES, ROLES, Member, RoleAssignment

# Every word maps to the canonical (bokmål) role name stored in the database.
ROLE_WORDS: dict[str, str] = {
    "leder": "leder", "leiar": "leder", "leader": "leder", "styrer": "leder", "manager": "leder",
    "enhetsleder": "leder", "einingsleiar": "leder",
    "verneombud": "verneombud", "verneombod": "verneombud", "vo": "verneombud", "safety": "verneombud",
    "tillitsvalgt": "tillitsvalgt", "tillitsvald": "tillitsvalgt", "tv": "tillitsvalgt",
    "union": "tillitsvalgt",
    "ansatt": "ansatt", "tilsett": "ansatt", "staff": "ansatt", "employee": "ansatt",
}  # fmt: skip


def parse_role(word: str) -> str | None:
    return ROLE_WORDS.get(word.strip().lower().strip(".,;:!?"))


def members_with_role(session: Session, unit_id: int, role: str) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .join(RoleAssignment, RoleAssignment.member_id == Member.id)
            .where(RoleAssignment.unit_id == unit_id, RoleAssignment.role == role)
            .order_by(Member.display_name, Member.id)
        )
    )


def party_members(session: Session, unit_id: int) -> dict[str, list[Member]]:
    """The trio present in a unit: role → members (a role nobody holds is left out)."""
    found = {role: members_with_role(session, unit_id, role) for role in PARTY_ROLES}
    return {role: people for role, people in found.items() if people}


def roles_of(session: Session, unit_id: int, member_id: int) -> list[str]:
    held = set(
        session.scalars(
            select(RoleAssignment.role).where(
                RoleAssignment.unit_id == unit_id, RoleAssignment.member_id == member_id
            )
        )
    )
    return [role for role in ROLES if role in held]


def primary_role(session: Session, unit_id: int, member_id: int) -> str | None:
    """The role someone speaks as: the party role if they hold one, else ansatt."""
    held = roles_of(session, unit_id, member_id)
    return held[0] if held else None
