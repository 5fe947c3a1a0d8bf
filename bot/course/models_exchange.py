"""Tables of the private reflections after each module and of module 6's experience exchange.

Reflections are anonymous like the check-in (:mod:`bot.course.survey`): a round per (run, module) holds
only the answers' texts in random order and their count – no author, no time per answer, no row per
answer – and a separate marker per person says only that they have answered (deleted when the digest is
made). The answers themselves are deleted as soon as the digest has been made, shown or not.

The exchange: units' course runs join an exchange group (one unit's leder makes it and gets an invite
code; other units join with the code, from the same Slack workspace/Teams tenant or another). Each
organisation names one exchange channel. A unit's trio chooses, item by item, what of its drafted page
"slik gjorde vi det" to share; a page is posted only when the two parties of the unit agree
(:mod:`bot.course.exchange`). Questions from the other units go to the sharing unit's trio; the answers
are posted back in the page's thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow
from bot.storage.personal import declare

# Reflections ------------------------------------------------------------------------------------------


class ReflectionRound(Base):
    """The reflection question after one module of one run, and the answers given so far (shuffled)."""

    __tablename__ = "reflection_round"
    __table_args__ = (UniqueConstraint("run_id", "module"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"))
    module: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column()
    # open | shown | withheld: after the digest the answers are gone either way.
    status: Mapped[str] = mapped_column(String(16), default="open")
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    # The texts, each new one inserted at a random place; emptied when the digest is made.
    answers: Mapped[list[str]] = mapped_column(JSON, default=list)


class ReflectionRespondent(Base):
    """That a member has answered a reflection round (one answer each), and nothing about what."""

    __tablename__ = "reflection_respondent"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("reflection_round.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)


# The exchange ------------------------------------------------------------------------------------------


class ExchangeGroup(Base):
    """Course runs of several units that share their experience at module 6."""

    __tablename__ = "exchange_group"
    __table_args__ = (UniqueConstraint("code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the invite code; the code itself is shown once, to the leder who made the group.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_by_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExchangeRun(Base):
    """A unit's course run in an exchange group (a run is in at most one)."""

    __tablename__ = "exchange_run"

    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))


class ExchangeChannel(Base):
    """The channel of an organisation (Slack workspace, Teams tenant) where shared pages are posted."""

    __tablename__ = "exchange_channel"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[str] = mapped_column(String(200))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))


class ExchangePage(Base):
    """A unit's "slik gjorde vi det": drafted items, the trio's choice, and whether it was posted.

    ``items`` is a list of ``{"key", "text", "chosen"}``; the texts were drafted from the unit's data with
    the thresholds applied and never from parties-only material. ``status``: draft → proposed → posted.
    """

    __tablename__ = "exchange_page"
    __table_args__ = (UniqueConstraint("run_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("exchange_group.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="nb")
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    drafted_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(default=None)


class ExchangeQuestion(Base):
    """A question about a shared page from someone of another unit, and the sharing trio's answer."""

    __tablename__ = "exchange_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("exchange_page.id", ondelete="CASCADE"))
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    asker_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


# What these tables hold about a person, and what erasure does with it (bot/storage/personal.py).
declare(ReflectionRespondent, "member_id", "delete", "answered_markers")
declare(ExchangeChannel, "set_by_id", "reassign", "exchange")
declare(ExchangePage, "proposed_by_id", "reassign", "exchange")
declare(ExchangePage, "confirmed_by_id", "reassign", "exchange")
declare(ExchangeQuestion, "asked_by_id", "reassign", "exchange")
declare(ExchangeQuestion, "answered_by_id", "reassign", "exchange")
