"""Tables of the course rhythm: course runs and their modules, the unit's calendar and summary choices,
nudges that are due, the send ledger, and the anonymous check-ins and evaluations.

Two rules shape these tables:

* **Exactly once.** Every scheduled message has a ledger row with a unique key, written in the same
  transaction as the outbox items that carry the message. A crash before the commit leaves nothing (the
  next tick tries again); a crash after it leaves the outbox to deliver; a second tick or replica hits the
  unique key and sends nothing.
* **No link to the person.** Check-in and evaluation answers are stored as counts per (question, score)
  and a shuffled list of comments: no member id, no timestamp, no row per answer whose insertion order
  could be lined up with the separate "has answered" records. Those records say only that someone answered
  a round, so reminders go to the others.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow
from bot.storage.personal import declare


class CourseRun(Base):
    """A unit enrolled in "Kurs i rolleforståelse og partssamarbeid"."""

    __tablename__ = "course_run"
    __table_args__ = (Index("ix_course_run_unit", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    # The course admin: the person who enrolled the unit. Told when a summary has no leader to go to.
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CourseModule(Base):
    """One of the six modules of a run, with its start as an instant (UTC)."""

    __tablename__ = "course_module"
    __table_args__ = (UniqueConstraint("run_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column()


class CourseSettings(Base):
    """A unit's calendar and summary choices. A unit without a row uses the defaults."""

    __tablename__ = "course_settings"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[str] = mapped_column(String(5), default="09:00")
    window_end: Mapped[str] = mapped_column(String(5), default="15:00")
    # ISO weeks, comma separated ("29,30").
    summer_weeks: Mapped[str] = mapped_column(String(40), default="29,30")
    summary_weekday: Mapped[int] = mapped_column(Integer, default=0)
    summary_time: Mapped[str] = mapped_column(String(5), default="08:00")
    # False: the summary goes to the leader only; True: to the whole trio.
    summary_to_trio: Mapped[bool] = mapped_column(Boolean, default=False)
    checkin_weekday: Mapped[int] = mapped_column(Integer, default=3)
    checkin_time: Mapped[str] = mapped_column(String(5), default="13:00")
    # Planning days (planleggingsdager), ISO dates comma separated: closed for the children, so no nudges
    # then, and the natural day for a staff gathering.
    planning_days: Mapped[str] = mapped_column(String(400), default="", server_default="")


class DueNudge(Base):
    """A nudge of the plan with the moment it is due (already moved out of quiet time).

    Pending rows are recomputed when a module moves or the unit's calendar changes; sent rows stay as the
    history of the run. ``key`` is also the ledger key.
    """

    __tablename__ = "course_due_nudge"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_course_due_nudge_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    nudge_id: Mapped[str] = mapped_column(String(60))
    module: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(16))
    text_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default="message")
    phase: Mapped[str] = mapped_column(String(16), default="")
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column()
    # Before-module nudges are pointless once the module has started.
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class SendLedger(Base):
    """What the scheduler has handed to the outbox, once per key (``run:3:prepare:m2``, ``summary:…``)."""

    __tablename__ = "course_send_ledger"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


# Anonymous surveys ---------------------------------------------------------------------------------


class CheckinRound(Base):
    """One week's "En bra dag på jobb" in a unit. Results are shown only once it has closed, so nobody
    can learn one person's scores by watching the numbers change after they answered."""

    __tablename__ = "checkin_round"
    __table_args__ = (UniqueConstraint("unit_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, "2026-W48"
    opened_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime] = mapped_column()
    remind_at: Mapped[datetime] = mapped_column()
    # How many members were asked (participation); answers are counted in ``answer_count``.
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    # Comments in random order (each new one is inserted at a random place).
    comments: Mapped[list[str]] = mapped_column(JSON, default=list)


class CheckinTally(Base):
    """How many answers of a round gave ``score`` for an indicator (``question``). No person, no time, no
    order: all rows exist from the round's start with count 0, so not even the first insert tells anything.
    """

    __tablename__ = "checkin_tally"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("checkin_round.id", ondelete="CASCADE"), primary_key=True
    )
    question: Mapped[str] = mapped_column(String(20), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class CheckinRespondent(Base):
    """That a member has answered a round, and nothing about what they answered."""

    __tablename__ = "checkin_respondent"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("checkin_round.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)


class EvaluationRound(Base):
    """An evaluation of a course run: ``baseline`` (module 1), ``module-N``, or ``after`` (after module 6)."""

    __tablename__ = "evaluation_round"
    __table_args__ = (UniqueConstraint("run_id", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime] = mapped_column()
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    answer_count: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The pool a closed trio-module round was shown in, with other kindergartens' rounds (the id of the
    # pool's first round): fixed once shown, so two pools never overlap (bot/course/evaluation.py).
    pool: Mapped[int | None] = mapped_column(Integer, default=None)


class EvaluationTally(Base):
    __tablename__ = "evaluation_tally"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_round.id", ondelete="CASCADE"), primary_key=True
    )
    question: Mapped[str] = mapped_column(String(20), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class EvaluationRespondent(Base):
    __tablename__ = "evaluation_respondent"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_round.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)


# What these tables hold about a person, and what erasure does with it (bot/storage/personal.py).
declare(CourseRun, "admin_id", "reassign", "course_admin")
declare(CheckinRespondent, "member_id", "delete", "answered_markers")
declare(EvaluationRespondent, "member_id", "delete", "answered_markers")
