"""The staff gatherings (modules 2 and 4): a ready HØRA draft for the trio, built from what the unit has.

A week before a staff gathering the trio gets the planning nudge with a button; pressing it opens the
HØRA form filled in from this draft, so leader, verneombud and tillitsvalgt start from the unit's own
material (its roles round, its open case with the ideas and the vote so far) instead of a blank page.
The module's date and time are filled in too. Nothing is posted until one of them sends the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.course import runs
from bot.i18n import Translator, plural
from bot.storage.models import RolesRound, Unit
from bot.toolbox.hora import agenda_safe
from bot.toolbox.models import Case, Idea
from bot.toolbox.models_plan import Vote

# Long enough for an idea round and a decision with the whole staff, short enough for an evening.
GATHERING_MINUTES = 90


@dataclass(frozen=True)
class HoraDraft:
    purpose: str
    desired: str
    agenda: str  # one item a line, in the form's own syntax ("Idé: … (25)")
    day: str
    time: str
    minutes: int
    case_id: int | None


def _open_case(session: Session, unit_id: int) -> Case | None:
    """The case the staff can work on together: the newest open one that everyone may see.

    A parties-only case never goes on an agenda that the whole staff reads.
    """
    return session.scalar(
        select(Case)
        .where(Case.unit_id == unit_id, Case.closed_at.is_(None), Case.parties_only.is_(False))
        .order_by(Case.id.desc())
    )


def _count(session: Session, model: type[Idea] | type[Vote], case_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(model.case_id == case_id)) or 0)


def draft_for(session: Session, unit: Unit, module: int, language: str) -> HoraDraft:
    tr = Translator(language)
    run = runs.active_run(session, unit.id)
    modules = runs.modules_of(session, run.id) if run is not None else []
    start = next((m.starts_at for m in modules if m.number == module), None)
    local = start.astimezone(ZoneInfo(unit.timezone)) if start is not None else None
    day = local.strftime("%d.%m.%Y") if local else ""
    at = local.strftime("%H:%M") if local else ""
    case = _open_case(session, unit.id) if module == 4 else None
    if module == 4 and case is None:
        items = [
            tr("gathering.challenge.find"),
            tr("gathering.challenge.ideas"),
            tr("gathering.challenge.decide"),
        ]
        return HoraDraft(
            tr("gathering.challenge.purpose"),
            tr("gathering.challenge.desired"),
            "\n".join(items),
            day,
            at,
            GATHERING_MINUTES,
            None,
        )
    if case is None:
        rounds = session.scalar(
            select(func.count()).select_from(RolesRound).where(RolesRound.unit_id == unit.id)
        )
        items = [tr("gathering.roles.info"), tr("gathering.roles.talk")]
        if rounds:
            items.append(tr("gathering.roles.round"))
        items.append(tr("gathering.roles.decide"))
        return HoraDraft(
            tr("gathering.roles.purpose"),
            tr("gathering.roles.desired"),
            "\n".join(items),
            day,
            at,
            GATHERING_MINUTES,
            None,
        )
    ideas, votes = _count(session, Idea, case.id), _count(session, Vote, case.id)
    title = agenda_safe(case.title)
    items = [tr("gathering.case.info", id=case.id, title=title)]
    counted = plural(tr.language, "counts.ideas", ideas)
    items.append(tr("gathering.case.ideas_more", count=counted) if ideas else tr("gathering.case.ideas"))
    items.append(tr("gathering.case.vote_result") if votes else tr("gathering.case.vote"))
    items.append(tr("gathering.case.plan"))
    return HoraDraft(
        tr("gathering.case.purpose", id=case.id, title=title),
        tr("gathering.case.desired", id=case.id),
        "\n".join(items),
        day,
        at,
        GATHERING_MINUTES,
        case.id,
    )
