"""Tables of "find solutions together" and HØRA: dot votes, plans with obstacles, actions and approvals,
and meetings with their agenda.

Limits that must hold under concurrency are database constraints, not only checks in code: a person's
dots occupy numbered slots (``slot`` below the budget, ``option_slot`` below the cap per option), so two
racing clicks can never give anyone more dots than allowed, and an approval is unique per plan revision
and role.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow
from bot.storage.personal import declare

# --------------------------------------------------------------------------------------------------
# Dot voting
# --------------------------------------------------------------------------------------------------


class Vote(Base):
    """A dot vote, over a case's ideas (``case_id`` set) or over a list typed in (standalone)."""

    __tablename__ = "vote"
    # One vote per case (a standalone vote has no case; NULLs never collide).
    __table_args__ = (UniqueConstraint("case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("toolbox_case.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    budget: Mapped[int] = mapped_column(Integer, default=3)
    cap: Mapped[int] = mapped_column(Integer, default=2)
    # open → closed; results are shown only once closed.
    status: Mapped[str] = mapped_column(String(16), default="open")
    deadline: Mapped[datetime | None] = mapped_column(default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))


class VoteOption(Base):
    """What can be voted for: a copy of an idea's text taken when the vote opened (``idea_id`` links back)
    or a line of a standalone list. Copying keeps the result stable if an idea is edited later."""

    __tablename__ = "vote_option"
    __table_args__ = (UniqueConstraint("vote_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(Text)
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("toolbox_idea.id", ondelete="SET NULL"))


class VoteDot(Base):
    """One dot a person put on an option. ``slot`` numbers the person's dots in the vote (0 … budget-1)
    and ``option_slot`` their dots on this option (0 … cap-1); both are unique, so the budget and the cap
    hold even if two requests of the same person race past the checks in code."""

    __tablename__ = "vote_dot"
    __table_args__ = (
        UniqueConstraint("vote_id", "member_id", "slot"),
        UniqueConstraint("vote_id", "member_id", "option_id", "option_slot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(ForeignKey("vote_option.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    option_slot: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------------------------------
# Plan: goal, obstacles, "how are we when the goal is reached?", actions, approvals
# --------------------------------------------------------------------------------------------------


class Plan(Base):
    """The plan of a case (one per case), made in the case's plan step.

    ``revision`` grows with every change of content; approvals count only for the current revision, so
    a change after someone approved asks everyone again (older approvals stay as history).
    """

    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("toolbox_case.id", ondelete="CASCADE"))
    goal: Mapped[str] = mapped_column(Text, default="")
    # "Hvordan har vi det når målet er nådd?"
    outcome: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # draft → agreed (every party role present has approved the current revision).
    status: Mapped[str] = mapped_column(String(16), default="draft")
    agreed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Obstacle(Base):
    """An obstacle on the way to the goal and how we get past it. ``number`` is shown and typed."""

    __tablename__ = "plan_obstacle"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    remedy: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionItem(Base):
    """An action with an owner (a member of the unit) and a due date (a local calendar day).
    ``number`` is shown and typed ("/parts plan ferdig 2"); a removal leaves the other numbers alone."""

    __tablename__ = "plan_action"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    due: Mapped[date] = mapped_column(index=True)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The weekly check-in's indicator this action should improve ("trygghet"), if any: the case shows
    # that indicator's trend before and after the action (bot/course/indicator.py).
    indicator: Mapped[str | None] = mapped_column(String(16), default=None)


class Approval(Base):
    """A party role's approval of one revision of a plan, given by a member who holds that role."""

    __tablename__ = "plan_approval"
    __table_args__ = (UniqueConstraint("plan_id", "revision", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------------------------------
# HØRA: Hensikt, Ønsket resultat, Agenda
# --------------------------------------------------------------------------------------------------


class Meeting(Base):
    """A meeting planned with HØRA. After it ends the organiser is asked whether the desired result was
    reached (``followup_asked_at``), and the answer is kept (``result``: yes | partly | no).

    ``kind`` says which meeting it is (personalmøte, ledermøte, HMS-gruppe, or the trio's own meeting);
    a trio meeting is seen only by the trio of its unit and may hold parties-only cases
    (bot/toolbox/access.py)."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="staff")
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("toolbox_case.id", ondelete="SET NULL"))
    purpose: Mapped[str] = mapped_column(Text)
    desired_result: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column()
    length_minutes: Mapped[int] = mapped_column(Integer)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    followup_asked_at: Mapped[datetime | None] = mapped_column(default=None)
    result: Mapped[str | None] = mapped_column(String(16), default=None)
    result_comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class AgendaItem(Base):
    """One agenda item: information (referatsak), idea round (idémyldring) or decision (beslutningssak)."""

    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    minutes: Mapped[int] = mapped_column(Integer)
    # "Hvorfor og hva vil vi": why the item is on the agenda and what we want with it.
    why: Mapped[str] = mapped_column(Text, default="")


class Stance(Base):
    """A person's stance on one revision of a plan, in one role.

    The plan is the employer's decision after the employees' representatives are heard (arbeidsmiljøloven
    §§ 2-1, 6-2; Hovedavtalen): each representative records enig / enig med merknad / uenig with a note,
    staff may support or comment, and the leder decides (an :class:`Approval` in role ``leder``). Rows are
    per person *and* role, dropped when the person loses the role, and a change of the plan starts a new
    revision, so older stances stay as history but no longer count.
    """

    __tablename__ = "plan_stance"
    __table_args__ = (UniqueConstraint("plan_id", "revision", "member_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    # enig | merknad (enig med merknad) | uenig for representatives; stoette | kommentar for staff.
    stance: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# What these tables hold about a person, and what erasure does with it (bot/storage/personal.py).
declare(Vote, "owner_id", "reassign", "votes")
declare(Vote, "closed_by_id", "reassign", "votes")
declare(VoteDot, "member_id", "delete", "dots")
declare(Plan, "created_by_id", "reassign", "plans")
declare(Obstacle, "created_by_id", "reassign", "texts")
declare(ActionItem, "owner_id", "reassign", "actions")
declare(ActionItem, "done_by_id", "reassign", "actions")
declare(ActionItem, "created_by_id", "reassign", "actions")
declare(Approval, "member_id", "reassign", "stances")
declare(Meeting, "organiser_id", "reassign", "meetings")
declare(Stance, "member_id", "reassign", "stances")
