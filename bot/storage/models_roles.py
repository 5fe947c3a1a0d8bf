"""Tables of role grants: pending claims, the audit trail, and the one-time review of roles that existed
before grants did.

A ``RoleAssignment`` (``bot/storage/models.py``) is a role that has been *granted*; only those give
access. A claim waits in ``role_claim`` and gives nothing until the leder confirms it or the current
holder hands the role over. Every change is appended to ``role_event`` and never edited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow
from bot.storage.personal import declare


class RoleClaim(Base):
    """Someone says they hold a party role; waits for the leder (or the current holder)."""

    __tablename__ = "role_claim"
    __table_args__ = (UniqueConstraint("unit_id", "member_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoleEvent(Base):
    """One line of the audit trail: ``actor`` did ``kind`` about ``member``'s ``role``.

    ``actor_id`` is None when the operator (``partsbot roles grant``) or the migration acted; ``via``
    says on what authority (admin, operator, leder, holder, self, member, migration).
    """

    __tablename__ = "role_event"
    __table_args__ = (Index("ix_role_event_unit", "unit_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoleReview(Base):
    """Units whose representatives were set before roles were granted: the leder is asked once to
    confirm them. ``asked_at`` is set when the question went out, so it is never asked twice."""

    __tablename__ = "role_review"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    asked_at: Mapped[datetime | None] = mapped_column(default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


class PlatformAdmin(Base):
    """Someone the platform says may set up the bot: the Teams installer (from the conversation update
    that added the bot). Slack's admins and owners come from ``users.info`` on each event instead."""

    __tablename__ = "platform_admin"
    __table_args__ = (UniqueConstraint("platform", "workspace", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# What these tables hold about a person, and what erasure does with it (bot/storage/personal.py).
declare(RoleClaim, "member_id", "delete", "role_claims")
declare(RoleEvent, "member_id", "reassign", "role_history")
declare(RoleEvent, "actor_id", "reassign", "role_history")
