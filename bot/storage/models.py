"""Core tables: who (organisations, units, members, roles), where (conversations, posted messages),
what is waiting to be sent (outbox), and the roles exercise.

Tables of other areas live beside their code (``bot/toolbox/models.py``, ``bot/course/models.py``, …) and
are collected by :mod:`bot.schema`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

ROLES = ("leder", "verneombud", "hovedverneombud", "tillitsvalgt", "ansatt")
# The employees' representatives: elected, so a claim waits for the leder (see bot/roles.py).
REPRESENTATIVE_ROLES = ("verneombud", "hovedverneombud", "tillitsvalgt")
PARTY_ROLES = ("leder", *REPRESENTATIVE_ROLES)

# Stable constraint names, so Alembic migrations can drop and rename them on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Organisation(Base):
    """A Slack workspace, a Teams tenant, or the local console."""

    __tablename__ = "organisation"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the app is uninstalled: everything of the organisation is deleted after this moment unless it
    # is installed again (bot/privacy/retention.py).
    delete_after: Mapped[datetime | None] = mapped_column(default=None)


class Unit(Base):
    """A kindergarten (or a department of one), bound to the channel where its staff talk."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("organisation_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(2), default="nb")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Oslo")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class Member(Base):
    """A person as their platform knows them. Language is optional: the unit's language applies when unset."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(2), default=None)
    # The unit a direct message is about: the last unit the person acted in.
    home_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class Membership(Base):
    """That a member belongs to a unit: has acted in its channel, or (Teams) was in the team's roster when
    the bot was added to it (bot.chat.router.learn_roster). Participation counts start here."""

    __tablename__ = "membership"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoleAssignment(Base):
    """A member's role in a unit; a person may hold more than one (a verneombud is also ansatt)."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("unit_id", "member_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationReference(Base):
    """What a platform needs to write into a conversation later, without an incoming request.

    Teams needs its whole ConversationReference (service URL, tenant, conversation); Slack needs only
    ids. ``scope`` is ``channel:<id>`` or ``user:<id>`` (a person's personal chat).
    """

    __tablename__ = "conversation_reference"
    __table_args__ = (UniqueConstraint("platform", "workspace", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PostedMessage(Base):
    """Which platform message carries a handler's message key (``case:12:head`` → Slack ts 1700.0001)."""

    __tablename__ = "posted_message"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_posted_message_lookup", "platform", "workspace", "channel", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(255))
    thread: Mapped[str | None] = mapped_column(String(255))
    message_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxItem(Base):
    """An effect waiting to be delivered. Written in the same transaction as the change that caused it,
    deleted once delivered, so a platform outage delays messages but never loses them.
    """

    __tablename__ = "outbox_item"
    __table_args__ = (
        Index("ix_outbox_item_due", "next_attempt_at"),
        Index("ix_outbox_item_lane", "lane", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # Items of one lane (a channel's posts, one person's private answers, one message's updates) go out in
    # order: the oldest item of a lane is its head, and nothing behind it is sent while it waits.
    lane: Mapped[str] = mapped_column(String(300))
    effect: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Updates of one message share this key; a newer one makes older ones unnecessary (last one wins).
    coalesce_key: Mapped[str | None] = mapped_column(String(200), default=None)
    # Failed for about a day: out of its lane, kept for the operator (``partsbot outbox``), and retried when
    # the platform delivers again.
    parked: Mapped[bool] = mapped_column(Boolean, default=False)


class InboxItem(Base):
    """An incoming platform request (Slack event, command, interaction; Teams Activity), stored before it is
    acknowledged and processed from here, so an acknowledged request survives a crash.

    ``key`` is the platform's own id of the request (a Slack event id, a hash of a command's signature, a
    Teams activity id): the unique constraint turns retries and replays into no-ops. Several replicas share
    the table: whoever holds ``claimed_until`` works on an item, and marking it processed happens in the
    same transaction as the change it caused (see :mod:`bot.chat.inbox`).
    """

    __tablename__ = "inbox_item"
    __table_args__ = (
        UniqueConstraint("platform", "key"),
        Index("ix_inbox_item_pending", "processed_at", "claimed_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(String(500), default="")


class KeyValue(Base):
    """Small pieces of local state (the console's current person and place)."""

    __tablename__ = "key_value"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class RolesRound(Base):
    """One round of the roles exercise ("Snakke sammen om rollene") in a unit's thread."""

    __tablename__ = "roles_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class RolesAnswer(Base):
    """A named answer in the roles exercise; ``role`` is the role the person answered as."""

    __tablename__ = "roles_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("roles_round.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    question: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


from bot.storage.personal import declare  # noqa: E402 (personal.py imports this module)

# What these tables hold about a person, and what erasure does with it (bot/storage/personal.py).
declare(Membership, "member_id", "delete", "memberships")
declare(RoleAssignment, "member_id", "delete", "roles")
declare(RolesRound, "started_by_id", "reassign", "roles_rounds")
declare(RolesAnswer, "member_id", "reassign", "roles_answers")
