"""Roles are granted, never claimed.

How roles arise, and so how they are granted here:

* **leder** (the employer side) is set up with the unit: by a person the platform says may set it up
  (Slack workspace admin or owner from ``users.info``, the Teams installer, the owner of a local
  console) when the unit has no leder yet, by the operator (``partsbot roles grant``), or handed over by
  the current leder (``/parts rolle gi leder <navn>``).
* **verneombud, hovedverneombud, tillitsvalgt** are elected by the employees: a claim is *pending* (and
  gives nothing) until the leder confirms it – the employer must know who they are – or the current
  holder hands the role over. Every member sees the claim and the grant announced and may object.
* **ansatt** is everyone's, no one has to confirm it.
* The employer side and an employees' representative are never the same person in one unit.

Every grant, claim, confirmation, hand-over, objection and removal is appended to ``role_event``.
Removing a role removes what it alone gave: the person's stances and decisions on plans not yet decided,
and (because access reads granted roles only) parties-only cases and confidential matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from bot.roles import conflicts, members_with_role, party_people, roles_of
from bot.storage.models import PARTY_ROLES, REPRESENTATIVE_ROLES, Member, Organisation, RoleAssignment, Unit
from bot.storage.models_roles import PlatformAdmin, RoleClaim, RoleEvent
from bot.toolbox.models_plan import Approval, Plan, Stance

# Authorities recorded in the audit trail.
VIA_ADMIN, VIA_OPERATOR, VIA_LEADER, VIA_HOLDER, VIA_SELF, VIA_MEMBER, VIA_MIGRATION = (
    "admin", "operator", "leder", "holder", "self", "member", "migration",
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What a request did: ``granted`` (the role is held now) or ``pending`` (a claim waits)."""

    role: str
    granted: bool


class RoleRefused(Exception):
    """A rule of the grant was broken; ``key`` is the prompt that explains it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def record(
    session: Session,
    unit_id: int,
    kind: str,
    role: str,
    member_id: int | None,
    actor_id: int | None,
    via: str,
    now: datetime,
) -> None:
    session.add(
        RoleEvent(
            unit_id=unit_id,
            kind=kind,
            role=role,
            member_id=member_id,
            actor_id=actor_id,
            via=via,
            created_at=now,
        )
    )


def is_platform_admin(session: Session, organisation: Organisation, user_id: str, said_admin: bool) -> bool:
    """The platform's word that this person may set the bot up: Slack's admin/owner flag on the event,
    or a recorded Teams installer; the console's user owns the local install."""
    if said_admin or organisation.platform == "console":
        return True
    return (
        session.scalar(
            select(PlatformAdmin.id).where(
                PlatformAdmin.platform == organisation.platform,
                PlatformAdmin.workspace == organisation.external_id,
                PlatformAdmin.user_id == user_id,
            )
        )
        is not None
    )


def remember_installer(session: Session, platform: str, workspace: str, user_id: str, now: datetime) -> None:
    """Keep who installed the bot (Teams' conversation update names them), once."""
    found = session.scalar(
        select(PlatformAdmin.id).where(
            PlatformAdmin.platform == platform,
            PlatformAdmin.workspace == workspace,
            PlatformAdmin.user_id == user_id,
        )
    )
    if found is None:
        session.add(PlatformAdmin(platform=platform, workspace=workspace, user_id=user_id, created_at=now))


_PENDING_CLAIMS = select(RoleClaim).where(RoleClaim.unit_id == bindparam("unit_id")).order_by(RoleClaim.id)


def pending_claims(session: Session, unit_id: int) -> list[RoleClaim]:
    return list(session.scalars(_PENDING_CLAIMS, {"unit_id": unit_id}))


def claims_of(session: Session, unit_id: int, member_id: int) -> list[RoleClaim]:
    return [c for c in pending_claims(session, unit_id) if c.member_id == member_id]


def _check_conflict(session: Session, unit_id: int, member_id: int, role: str) -> None:
    held = roles_of(session, unit_id, member_id) + [c.role for c in claims_of(session, unit_id, member_id)]
    other = conflicts(role, [r for r in held if r != role])
    if other is not None:
        raise RoleRefused("roles.conflict", role=role, other=other)


def _grant(
    session: Session,
    unit_id: int,
    member_id: int,
    role: str,
    actor_id: int | None,
    via: str,
    now: datetime,
    kind: str,
) -> None:
    session.execute(
        delete(RoleClaim).where(
            RoleClaim.unit_id == unit_id, RoleClaim.member_id == member_id, RoleClaim.role == role
        )
    )
    if role not in roles_of(session, unit_id, member_id):
        session.add(RoleAssignment(unit_id=unit_id, member_id=member_id, role=role, assigned_at=now))
    record(session, unit_id, kind, role, member_id, actor_id, via, now)
    session.flush()


def request(
    session: Session, unit: Unit, member: Member, role: str, *, platform_admin: bool, now: datetime
) -> Outcome:
    """A person asks for ``role`` in ``unit``: granted at once only where the rules above allow."""
    held = roles_of(session, unit.id, member.id)
    if role in held:
        raise RoleRefused("roles.already_held", role=role)
    if any(c.role == role for c in claims_of(session, unit.id, member.id)):
        raise RoleRefused("roles.already_pending", role=role)
    _check_conflict(session, unit.id, member.id, role)
    if role == "ansatt":
        _grant(session, unit.id, member.id, role, member.id, VIA_SELF, now, "granted")
        return Outcome(role, True)
    if role == "leder" and platform_admin and not members_with_role(session, unit.id, "leder"):
        _grant(session, unit.id, member.id, role, member.id, VIA_ADMIN, now, "granted")
        return Outcome(role, True)
    session.add(RoleClaim(unit_id=unit.id, member_id=member.id, role=role, created_at=now))
    record(session, unit.id, "claimed", role, member.id, member.id, VIA_SELF, now)
    session.flush()
    return Outcome(role, False)


def confirm(session: Session, unit_id: int, claim: RoleClaim, leader: Member, now: datetime) -> None:
    """The leder of the claim's unit confirms a representative's claim."""
    if claim.unit_id != unit_id or "leder" not in roles_of(session, unit_id, leader.id):
        raise RoleRefused("roles.confirm_not_leader")
    if claim.role not in REPRESENTATIVE_ROLES:
        # The employer side is handed over, not confirmed by a colleague.
        raise RoleRefused("roles.leader_by_handover")
    _check_conflict(session, unit_id, claim.member_id, claim.role)
    _grant(session, unit_id, claim.member_id, claim.role, leader.id, VIA_LEADER, now, "confirmed")


def decline(session: Session, unit_id: int, claim: RoleClaim, leader: Member, now: datetime) -> None:
    if claim.unit_id != unit_id or "leder" not in roles_of(session, unit_id, leader.id):
        raise RoleRefused("roles.confirm_not_leader")
    record(session, unit_id, "declined", claim.role, claim.member_id, leader.id, VIA_LEADER, now)
    session.delete(claim)
    session.flush()


def hand_over(
    session: Session, unit_id: int, role: str, giver: Member, receiver: Member, now: datetime
) -> None:
    """The current holder gives a party role to someone else and leaves it."""
    if role not in PARTY_ROLES or role not in roles_of(session, unit_id, giver.id):
        raise RoleRefused("roles.handover_not_holder", role=role)
    if giver.id == receiver.id:
        raise RoleRefused("roles.already_held", role=role)
    _check_conflict(session, unit_id, receiver.id, role)
    remove(session, unit_id, giver.id, role, giver.id, VIA_HOLDER, now, kind="handed_over")
    _grant(session, unit_id, receiver.id, role, giver.id, VIA_HOLDER, now, "granted")


def operator_grant(session: Session, unit: Unit, member: Member, role: str, now: datetime) -> None:
    """``partsbot roles grant`` and the console's ``/som`` (the local operator): still no conflicts."""
    if role in roles_of(session, unit.id, member.id):
        return
    _check_conflict(session, unit.id, member.id, role)
    _grant(session, unit.id, member.id, role, None, VIA_OPERATOR, now, "granted")


def remove(
    session: Session,
    unit_id: int,
    member_id: int,
    role: str,
    actor_id: int | None,
    via: str,
    now: datetime,
    *,
    kind: str = "removed",
) -> bool:
    """Take a role (or a pending claim) away, with what it alone gave. Returns whether anything changed."""
    claim = session.scalar(
        select(RoleClaim).where(
            RoleClaim.unit_id == unit_id, RoleClaim.member_id == member_id, RoleClaim.role == role
        )
    )
    row = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.unit_id == unit_id,
            RoleAssignment.member_id == member_id,
            RoleAssignment.role == role,
        )
    )
    if claim is None and row is None:
        return False
    if claim is not None:
        session.delete(claim)
        record(session, unit_id, "withdrawn", role, member_id, actor_id, via, now)
    if row is not None:
        session.delete(row)
        record(session, unit_id, kind, role, member_id, actor_id, via, now)
        _drop_what_role_gave(session, unit_id, member_id, role)
    session.flush()
    return True


def _drop_what_role_gave(session: Session, unit_id: int, member_id: int, role: str) -> None:
    """Stances and decisions given in this role on plans not decided yet are gone with the role."""
    open_plans = select(Plan.id).where(Plan.unit_id == unit_id, Plan.status != "agreed")
    session.execute(
        delete(Stance).where(
            Stance.plan_id.in_(open_plans), Stance.member_id == member_id, Stance.role == role
        )
    )
    session.execute(
        delete(Approval).where(
            Approval.plan_id.in_(open_plans), Approval.member_id == member_id, Approval.role == role
        )
    )


def object_to(
    session: Session, unit_id: int, objector: Member, member: Member, role: str, now: datetime
) -> None:
    record(session, unit_id, "objected", role, member.id, objector.id, VIA_MEMBER, now)
    session.flush()


def history(session: Session, unit_id: int, limit: int = 30) -> list[RoleEvent]:
    return list(
        reversed(
            session.scalars(
                select(RoleEvent)
                .where(RoleEvent.unit_id == unit_id)
                .order_by(RoleEvent.id.desc())
                .limit(limit)
            ).all()
        )
    )


def parties_to_tell(session: Session, unit_id: int, newcomer_id: int) -> list[Member]:
    """The parties of the unit other than a newcomer: told when someone new gains access to
    parties-only cases."""
    return [m for m in party_people(session, unit_id) if m.id != newcomer_id]
