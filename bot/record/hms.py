"""Collect a unit's HMS record: cases with their problem statements, plans, decisions and actions; HØRA
meetings with their results; the course's modules, check-in trend and evaluation.

A kindergarten must document its systematic HMS work (internkontroll). This is the part of it that lives
in Partsbot, as plain data in the reader's language. Rules that keep it safe to file:

* Parties-only cases and the trio's own meetings (partsmøter) are left out unless the record is made for
  the trio (``for_trio``): a filed document is read by more people than the chat where the case was raised.
* Figures follow the thresholds of the weekly summary (nothing under the minimum group size), and free-text
  comments from check-ins and evaluations are never included: the document outlives the chat.
* Anonymous blind-spot questions are counted, never quoted: the record is about decisions, not voices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.course import checkin, evaluation, indicator, runs
from bot.course.models import CourseRun
from bot.course.privacy import MIN_GROUP_SIZE
from bot.course.unitcal import week_number
from bot.course.words import day_text, module_name, when_text
from bot.i18n import Translator, decimal
from bot.storage.models import Member, Unit
from bot.toolbox.decision import decision_text
from bot.toolbox.hora import TRIO, agenda_items, kind_name
from bot.toolbox.models import Case, Idea, Question
from bot.toolbox.models_plan import ActionItem, Meeting
from bot.toolbox.planning import actions, obstacles, plan_of
from bot.toolbox.records import name_of, versions

# Chat formatting (*bold*, _italic_, `code`) has no place in a filed document.
_MARKUP = re.compile(r"(?<!\w)[*_`]+|[*_`]+(?!\w)")


def plain(text: str) -> str:
    return _MARKUP.sub("", text).strip()


@dataclass(frozen=True)
class ActionRecord:
    number: int
    text: str
    owner: str
    due: str
    due_iso: str
    done: bool
    # The check-in indicator the action should improve and its trend before and after ("" for none).
    indicator: str = ""


@dataclass(frozen=True)
class CaseRecord:
    number: int
    title: str
    statement: str
    step: str
    status: str
    parties_only: bool
    started: str
    closed: str
    questions: int
    ideas: int
    goal: str
    outcome: str
    obstacles: tuple[tuple[str, str], ...]
    decision: str
    actions: tuple[ActionRecord, ...]
    # Answers to "Hvordan har vi det når målet er nådd?" after the last action was done (named).
    reached: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgendaRecord:
    kind: str
    title: str
    minutes: int
    why: str = ""


@dataclass(frozen=True)
class MeetingRecord:
    number: int
    kind: str
    when: str
    minutes: int
    purpose: str
    desired_result: str
    case: int | None
    items: tuple[AgendaRecord, ...]
    result: str
    result_comment: str


@dataclass(frozen=True)
class WeekRecord:
    week: str
    answers: int
    asked: int
    means: dict[str, float] | None


@dataclass(frozen=True)
class HmsRecord:
    unit: str
    language: str
    generated: str
    for_trio: bool
    cases: tuple[CaseRecord, ...]
    meetings: tuple[MeetingRecord, ...]
    modules: tuple[tuple[str, str, bool], ...]  # name, when, held
    checkins: tuple[WeekRecord, ...]
    evaluation: tuple[str, ...]


def _trend_text(tr: Translator, session: Session, action: ActionItem, now: datetime) -> str:
    if action.indicator is None:
        return ""
    found = indicator.action_trend(session, action, now)
    name = tr(f"checkin.indicators.{action.indicator}")
    return f"{name}: " + (indicator.describe(tr, found) if found is not None else tr("indicator.not_started"))


def _case(tr: Translator, session: Session, unit: Unit, case: Case, now: datetime) -> CaseRecord:
    plan = plan_of(session, case.id)
    questions = session.scalar(select(func.count()).select_from(Question).where(Question.case_id == case.id))
    ideas = session.scalar(select(func.count()).select_from(Idea).where(Idea.case_id == case.id))
    items: tuple[ActionRecord, ...] = ()
    if plan is not None:
        items = tuple(
            ActionRecord(
                number=a.number,
                text=a.text,
                owner=name_of(session.get(Member, a.owner_id)),
                due=day_text(tr.language, a.due),
                due_iso=a.due.isoformat(),
                done=a.done_at is not None,
                indicator=_trend_text(tr, session, a, now),
            )
            for a in actions(session, plan.id)
        )
    return CaseRecord(
        number=case.id,
        title=case.title,
        statement=case.statement,
        step=tr(f"summary.steps.{case.step}") if case.step in _STEPS else case.step,
        status=tr("record.closed") if case.closed_at is not None else tr("record.open"),
        parties_only=case.parties_only,
        started=day_text(tr.language, _local_day(case.created_at, unit)),
        closed=day_text(tr.language, _local_day(case.closed_at, unit)) if case.closed_at else "",
        questions=int(questions or 0),
        ideas=int(ideas or 0),
        goal=plan.goal if plan else "",
        outcome=plan.outcome if plan else "",
        obstacles=tuple((o.text, o.remedy) for o in obstacles(session, plan.id)) if plan else (),
        decision=plain(decision_text(tr, session, plan)) if plan else tr("record.no_plan"),
        actions=items,
        reached=tuple(
            f"{name_of(session.get(Member, v.author_id) if v.author_id else None)}: {v.text}"
            for v in versions(session, case, "reached")
        ),
    )


_STEPS = ("define", "blindspot", "ideas", "vote", "plan", "agreed")


def _local_day(moment: datetime, unit: Unit) -> date:
    return moment.astimezone(ZoneInfo(unit.timezone)).date()


def _meeting(tr: Translator, session: Session, unit: Unit, meeting: Meeting) -> MeetingRecord:
    return MeetingRecord(
        number=meeting.id,
        kind=kind_name(tr, meeting.kind),
        when=when_text(tr.language, meeting.starts_at, unit.timezone),
        minutes=meeting.length_minutes,
        purpose=meeting.purpose,
        desired_result=meeting.desired_result,
        case=meeting.case_id,
        items=tuple(
            AgendaRecord(plain(tr(f"hora.mark.{i.kind}")), i.title, i.minutes, i.why)
            for i in agenda_items(session, meeting.id)
        ),
        result=tr(f"hora.results.{meeting.result}") if meeting.result else tr("record.no_result"),
        result_comment=meeting.result_comment,
    )


def _evaluation_lines(tr: Translator, comparison: evaluation.Comparison | None, minimum: int) -> list[str]:
    if comparison is None or comparison.reason == "not_yet":
        return [tr("record.evaluation_not_yet")]
    if comparison.reason == "too_few":
        return [tr("summary.evaluation_hidden", min=minimum)]
    lines = []
    for question, before, after in comparison.rows:
        label = tr(f"evaluation.short.{question}")
        if before is None:
            lines.append(
                tr("summary.evaluation_after_only", question=label, after=decimal(tr.language, after))
            )
        else:
            lines.append(
                tr(
                    "summary.evaluation_line",
                    question=label,
                    before=decimal(tr.language, before),
                    after=decimal(tr.language, after),
                )
            )
    return [plain(line) for line in lines]


def collect(session: Session, unit: Unit, now: datetime, language: str, *, for_trio: bool) -> HmsRecord:
    """The unit's record as of ``now``; ``for_trio`` includes parties-only cases (the caller checks that
    the reader may see them)."""
    tr = Translator(language)
    query = select(Case).where(Case.unit_id == unit.id).order_by(Case.id)
    if not for_trio:
        query = query.where(Case.parties_only.is_(False))
    cases = tuple(_case(tr, session, unit, c, now) for c in session.scalars(query))
    shown = {c.number for c in cases}
    found_query = select(Meeting).where(Meeting.unit_id == unit.id).order_by(Meeting.starts_at)
    if not for_trio:
        # The trio's own meetings (partsmøter) are theirs: only in the record made for the trio.
        found_query = found_query.where(Meeting.kind != TRIO)
    found = session.scalars(found_query)
    # A meeting about a case the reader may not see would name it through its purpose.
    meetings = tuple(_meeting(tr, session, unit, m) for m in found if m.case_id is None or m.case_id in shown)
    # The active run, or the latest one that ended: a record is often made after the course.
    run = runs.active_run(session, unit.id) or session.scalar(
        select(CourseRun).where(CourseRun.unit_id == unit.id).order_by(CourseRun.id.desc())
    )
    modules: tuple[tuple[str, str, bool], ...] = ()
    lines: list[str] = []  # no course, no evaluation: the course section says so once
    if run is not None:
        modules = tuple(
            (
                module_name(language, m.number, m.kind),
                when_text(language, m.starts_at, unit.timezone),
                m.starts_at.astimezone(UTC) <= now.astimezone(UTC),
            )
            for m in runs.modules_of(session, run.id)
        )
        lines = _evaluation_lines(tr, evaluation.compare(session, run.id, now), MIN_GROUP_SIZE)
    weeks = tuple(
        WeekRecord(week_number(w.week), w.answers, w.asked, w.means)
        for w in checkin.results(session, unit.id, now, limit=52)
    )
    return HmsRecord(
        unit=unit.name,
        language=tr.language,
        generated=when_text(language, now, unit.timezone),
        for_trio=for_trio,
        cases=cases,
        meetings=meetings,
        modules=modules,
        checkins=weeks,
        evaluation=tuple(lines),
    )
