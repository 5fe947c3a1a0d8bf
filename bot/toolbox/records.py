"""What people add to a case by name: participants and the versions of its text."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.chat.context import HandlerContext
from bot.storage.models import Member
from bot.toolbox.models import Case, CaseParticipant, CaseVersion


def add_participant(ctx: HandlerContext, case: Case, member: Member | None = None) -> None:
    """Record that someone took part by name. Never call this for an anonymous contribution."""
    who = member or ctx.member
    exists = ctx.session.scalar(
        select(CaseParticipant.id).where(
            CaseParticipant.case_id == case.id, CaseParticipant.member_id == who.id
        )
    )
    if exists is None:
        ctx.session.add(CaseParticipant(case_id=case.id, member_id=who.id, joined_at=ctx.now))
        ctx.session.flush()


def participants(session: Session, case: Case) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .join(CaseParticipant, CaseParticipant.member_id == Member.id)
            .where(CaseParticipant.case_id == case.id)
            .order_by(CaseParticipant.joined_at, CaseParticipant.id)
        )
    )


def add_version(ctx: HandlerContext, case: Case, kind: str, text: str) -> CaseVersion:
    number = ctx.session.scalar(
        select(func.coalesce(func.max(CaseVersion.n), 0)).where(CaseVersion.case_id == case.id)
    )
    version = CaseVersion(
        case_id=case.id,
        n=int(number or 0) + 1,
        kind=kind,
        text=text,
        author_id=ctx.member.id,
        created_at=ctx.now,
    )
    ctx.session.add(version)
    case.updated_at = ctx.now
    ctx.session.flush()
    return version


def versions(session: Session, case: Case, *kinds: str, include_struck: bool = False) -> list[CaseVersion]:
    """The case's texts in order; struck answers only for the history (``include_struck``)."""
    query = select(CaseVersion).where(CaseVersion.case_id == case.id).order_by(CaseVersion.n)
    if kinds:
        query = query.where(CaseVersion.kind.in_(kinds))
    if not include_struck:
        query = query.where(CaseVersion.struck_at.is_(None))
    return list(session.scalars(query))


def name_of(member: Member | None) -> str:
    return (member.display_name or member.user_id) if member else "?"


def short(text: str, limit: int = 120) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
