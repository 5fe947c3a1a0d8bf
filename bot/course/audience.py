"""Who a scheduled message goes to, as effects: the unit's channel, the trio, the leader, every member.

The scheduler has no incoming event to answer, so places are built from the unit and its organisation
(the Slack team or Teams tenant the unit lives in). Each person gets the text in their own language.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.model import Direct, Effect, Place, Post, Reply
from bot.i18n import normalise_language
from bot.roles import members_with_role
from bot.storage.models import PARTY_ROLES, Member, Membership, Organisation, Unit

AUDIENCES = ("channel", "trio", "members", "leader")

# Builds the reply for one language (and, for private messages, one person).
Render = Callable[[str, Member | None], Reply]


def organisation_of(session: Session, unit: Unit) -> Organisation:
    org = session.get(Organisation, unit.organisation_id)
    if org is None:  # the foreign key makes this impossible; a clear error beats an AttributeError
        raise LookupError(f"unit {unit.id} has no organisation")
    return org


def channel_place(org: Organisation, unit: Unit) -> Place:
    return Place(org.platform, org.external_id, unit.channel_id)  # type: ignore[arg-type]


def language_of(member: Member | None, unit: Unit) -> str:
    return normalise_language((member.language if member else None) or unit.language)


def members_of(session: Session, unit_id: int) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.unit_id == unit_id)
            .order_by(Member.display_name, Member.id)
        )
    )


def trio_of(session: Session, unit_id: int) -> list[Member]:
    """Leader, verneombud and tillitsvalgt present in the unit, each person once."""
    seen: dict[int, Member] = {}
    for role in PARTY_ROLES:
        for member in members_with_role(session, unit_id, role):
            seen.setdefault(member.id, member)
    return list(seen.values())


def leaders_of(session: Session, unit_id: int) -> list[Member]:
    return members_with_role(session, unit_id, "leder")


def direct(org: Organisation, member: Member, reply: Reply) -> Direct:
    return Direct(org.platform, org.external_id, member.user_id, reply)  # type: ignore[arg-type]


def people_for(session: Session, unit: Unit, audience: str) -> list[Member]:
    if audience == "trio":
        return trio_of(session, unit.id)
    if audience == "leader":
        return leaders_of(session, unit.id)
    if audience == "members":
        return members_of(session, unit.id)
    raise ValueError(f"unknown audience {audience!r}")


def effects_for(session: Session, unit: Unit, audience: str, render: Render) -> list[Effect]:
    """The effects that deliver ``render``'s reply to ``audience`` of ``unit``."""
    org = organisation_of(session, unit)
    if audience == "channel":
        return [Post(channel_place(org, unit), render(language_of(None, unit), None))]
    return [direct(org, m, render(language_of(m, unit), m)) for m in people_for(session, unit, audience)]
