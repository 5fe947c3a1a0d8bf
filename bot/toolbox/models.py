"""Tables of the toolbox: problem threads (cases) and what people add to them.

A case walks the toolbox in one thread: define → blindspot → ideas → vote → plan → agreed. These tables
hold the case itself, the versions of its statement, who takes part, blind-spot questions and ideas;
votes, plans and meetings have theirs in :mod:`bot.toolbox.models_plan`.

Privacy: an anonymous blind-spot question is never linked to a person. While it waits for its batch it
lives in :class:`PendingQuestion`, which has no author column and no timestamp at all, and
:class:`AnonymousPool` counts how many different people asked without saying who. When a batch is
released the rows move to :class:`Question` in shuffled order with the batch time only, and the pending
rows and the pool's key are deleted. So neither the table nor its ids tell who asked or when (see
:mod:`bot.toolbox.blindspot`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow
from bot.storage.personal import declare

# The toolbox's steps in order; a case moves forward one step at a time.
STEPS = ("define", "blindspot", "ideas", "vote", "plan", "agreed")


def next_step(step: str) -> str | None:
    """The step after ``step``; ``None`` after the last one."""
    index = STEPS.index(step)
    return STEPS[index + 1] if index + 1 < len(STEPS) else None


class Case(Base):
    """A problem thread in a unit. ``statement`` is the current problem statement (the latest version)."""

    # "case" is an SQL keyword; a prefixed name avoids quoting trouble in hand-written SQL.
    __tablename__ = "toolbox_case"
    __table_args__ = (Index("ix_toolbox_case_unit", "unit_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    # The starter's roles when the case began, e.g. "verneombud" or "leder,verneombud" ("" for staff).
    starter_roles: Mapped[str] = mapped_column(String(100), default="")
    step: Mapped[str] = mapped_column(String(16), default="define")
    # Visible to the party trio (and the starter) only: the verneombud's duty of confidentiality.
    parties_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which define question the bot waits for in the thread (symptom, cause, why, effect, wish, statement).
    pending_prompt: Mapped[str | None] = mapped_column(String(16), default=None)
    ideas_deadline: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # How a case ended without a decided plan: "withdrawn" (by its starter or a party: started by mistake,
    # no longer wanted) or "closed" (dealt with another way). ``None`` while open and for decided plans.
    end_reason: Mapped[str | None] = mapped_column(String(16), default=None)


class CaseVersion(Base):
    """One step in a case's text: a statement version or an answer to a define question. Never edited."""

    __tablename__ = "toolbox_case_version"
    __table_args__ = (UniqueConstraint("case_id", "n"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("toolbox_case.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Struck by the case's starter or a party (bot/toolbox/entries.py): kept in the history, left out of
    # the case. Who struck it is said in the thread, not stored.
    struck_at: Mapped[datetime | None] = mapped_column(default=None)


class CaseParticipant(Base):
    """Someone who took part by name (started, answered, asked a named question, added an idea)."""

    __tablename__ = "toolbox_case_participant"
    __table_args__ = (UniqueConstraint("case_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("toolbox_case.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class Question(Base):
    """A blind-spot question that people can see.

    Named: ``author_id`` and ``created_at`` are set. Anonymous: ``author_id`` is NULL, ``created_at`` is
    the batch's release time (never the submit time) and ``batch`` numbers the release within the case.
    """

    __tablename__ = "toolbox_question"
    __table_args__ = (Index("ix_toolbox_question_case", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("toolbox_case.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    released: Mapped[bool] = mapped_column(Boolean, default=True)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    batch: Mapped[int | None] = mapped_column(Integer, default=None)
    # SHA-256 of the normalised text, for anonymous ones: a repeated submission is recognised without
    # knowing who sent it.
    digest: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime | None] = mapped_column(default=None)
    # Struck from the case (see CaseVersion.struck_at). For an anonymous question it is the time a steerer
    # struck it, which says nothing about who asked.
    struck_at: Mapped[datetime | None] = mapped_column(default=None)


class PendingQuestion(Base):
    """An anonymous question waiting for its batch. Deliberately no author and no time column, and a random
    id: the whole pool of a case is rewritten in random order whenever a question joins it, so neither the
    ids, the row order nor the rows' transaction ids tell which question came last."""

    __tablename__ = "toolbox_pending_question"
    __table_args__ = (UniqueConstraint("case_id", "digest"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("toolbox_case.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))


class AnonymousPool(Base):
    """How many *different* people have questions waiting in a case, without saying who.

    ``askers`` holds one keyed hash per person (HMAC of the member id under a key made from ``salt`` and
    ``PARTSBOT_SECRET_KEY``), sorted, so it can count people but not name them or order them. The row,
    salt included, is deleted when the batch is released: the key is thrown away with it.
    """

    __tablename__ = "toolbox_anonymous_pool"

    case_id: Mapped[int] = mapped_column(ForeignKey("toolbox_case.id", ondelete="CASCADE"), primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
    askers: Mapped[list[str]] = mapped_column(JSON, default=list)


class Idea(Base):
    """An idea in the idea hunt; ``builds_on_id`` is the idea it says "Ja, og …" to."""

    __tablename__ = "toolbox_idea"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("toolbox_case.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    builds_on_id: Mapped[int | None] = mapped_column(ForeignKey("toolbox_idea.id", ondelete="SET NULL"))
    # The idea opened with "nei, men"/"men": kept (no refusal), the author got a reminder of the rule, and
    # it stays off the ballot until its author rephrases it.
    blocking: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Struck from the case (see CaseVersion.struck_at): not on the head, not on the ballot.
    struck_at: Mapped[datetime | None] = mapped_column(default=None)


# What these tables hold about a person, and what erasure does with it (bot/storage/personal.py).
declare(Case, "started_by_id", "reassign", "cases_started")
declare(CaseVersion, "author_id", "reassign", "texts")
declare(CaseParticipant, "member_id", "delete", "participation")
declare(Question, "author_id", "reassign", "texts")
declare(Idea, "author_id", "reassign", "texts")
