"""A case's whole history as plain data, for weekly summaries and export (GDPR access requests too)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.storage.models import Member, Unit
from bot.toolbox.models import Case, Idea, PendingQuestion, Question
from bot.toolbox.records import name_of, participants, versions


def case_history(session: Session, case_id: int) -> dict[str, Any]:
    """Everything a case holds, for summaries and export. Anonymous questions carry no author, and
    questions still waiting for their batch are only counted (their text is not public yet)."""
    case = session.get(Case, case_id)
    if case is None:
        raise KeyError(case_id)
    members = session.scalars(
        select(Member)
        .join(Unit, Unit.organisation_id == Member.organisation_id)
        .where(Unit.id == case.unit_id)
    )
    names = {m.id: name_of(m) for m in members}

    def author(member_id: int | None) -> str | None:
        return names.get(member_id) if member_id is not None else None

    ideas = list(session.scalars(select(Idea).where(Idea.case_id == case.id).order_by(Idea.number)))
    numbers = {idea.id: idea.number for idea in ideas}
    questions = session.scalars(select(Question).where(Question.case_id == case.id).order_by(Question.id))
    pending = session.scalar(
        select(func.count()).select_from(PendingQuestion).where(PendingQuestion.case_id == case.id)
    )
    return {
        "id": case.id,
        "unit_id": case.unit_id,
        "title": case.title,
        "statement": case.statement,
        "step": case.step,
        "parties_only": case.parties_only,
        "started_by": author(case.started_by_id),
        "starter_roles": [r for r in case.starter_roles.split(",") if r],
        "created_at": case.created_at,
        "closed_at": case.closed_at,
        "ideas_deadline": case.ideas_deadline,
        "participants": [name_of(m) for m in participants(session, case)],
        "versions": [
            {
                "n": v.n,
                "kind": v.kind,
                "text": v.text,
                "author": author(v.author_id),
                "at": v.created_at,
                "struck": v.struck_at is not None,
            }
            for v in versions(session, case, include_struck=True)
        ],
        "questions": [
            {
                "text": q.text,
                "anonymous": q.anonymous,
                "author": author(q.author_id),
                "batch": q.batch,
                "at": q.released_at,
                "struck": q.struck_at is not None,
            }
            for q in questions
        ],
        "unreleased_anonymous": int(pending or 0),
        "ideas": [
            {
                "number": i.number,
                "text": i.text,
                "author": author(i.author_id),
                "builds_on": numbers.get(i.builds_on_id) if i.builds_on_id else None,
                "blocking": i.blocking,
                "at": i.created_at,
                "struck": i.struck_at is not None,
            }
            for i in ideas
        ],
    }
