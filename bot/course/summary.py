"""The weekly summary: cases by step, new questions and ideas, votes closed, actions due and overdue, the
check-in trend as a chart, participation, the evaluation and the next module.

It goes every Monday 08:00 (per unit: weekday and time; the next working day after a holiday) to the leader
privately, or to the whole trio when the unit chooses. A unit without a leader gets it to the trio members
present, and the course admin is told. ``/parts oppsummering`` builds the same summary on demand.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.chat.model import Block, Divider, Effect, Header, Image, Note, Reply, Text
from bot.course import checkin, evaluation, runs, toolbox_view
from bot.course.audience import direct, language_of, leaders_of, organisation_of, trio_of
from bot.course.chart import render_trend_chart
from bot.course.jobs import Job, Skip, already_sent
from bot.course.models import CourseModule
from bot.course.privacy import MIN_COMMENT_GROUP, MIN_GROUP_SIZE
from bot.course.unitcal import (
    latest_summary_occurrence,
    next_summary_after,
    settings_for,
    week_number,
    window_for,
)
from bot.course.words import day_text, module_name, when_text
from bot.i18n import decimal, plural, t
from bot.settings import Settings
from bot.storage.models import Member, Unit
from bot.toolbox import access

log = logging.getLogger(__name__)

PERIOD = timedelta(days=7)
ACTION_HORIZON_DAYS = 7
MAX_LINES = 8
PARTICIPATION_WEEKS = 4
COMMENT_CHARS = 200


def chart_dir(settings: Settings) -> Path:
    """Where chart PNGs are written: ``PARTSBOT_CHART_DIR``, else a folder in the system's temp dir.

    Several replicas need a shared folder here: any replica may deliver the outbox item with the image.
    """
    configured = settings.extra.get("PARTSBOT_CHART_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "partsbot-charts"


@dataclass(frozen=True)
class SummaryData:
    """Everything a summary shows, before it is put into words. ``None`` means "not available"."""

    unit_id: int
    unit_name: str
    timezone: str
    since: datetime
    until: datetime
    cases: dict[str, list[str | None]] | None
    questions_ideas: tuple[int, int] | None
    votes: list[toolbox_view.VoteResult] | None
    actions_due: list[toolbox_view.ActionLine] | None
    actions_overdue: list[toolbox_view.ActionLine] | None
    checkins: list[checkin.WeekResult]
    comparison: evaluation.Comparison | None
    modules_done: int
    next_module: CourseModule | None
    enrolled: bool


def collect(
    session: Session, unit: Unit, now: datetime, *, parties_only_visible: bool = False
) -> SummaryData:
    """``parties_only_visible``: every reader may see the unit's parties-only cases (else they are
    counted without names, and their votes and actions left out: fails closed)."""
    since = now - PERIOD
    today = now.astimezone(window_for(session, unit).zone).date()
    private = {"parties_only_visible": parties_only_visible}
    actions = toolbox_view.actions_in(session, unit.id, today, ACTION_HORIZON_DAYS, **private)
    run = runs.active_run(session, unit.id)
    modules = runs.modules_of(session, run.id) if run else []
    return SummaryData(
        unit_id=unit.id,
        unit_name=unit.name,
        timezone=unit.timezone,
        since=since,
        until=now,
        cases=toolbox_view.cases_by_step(session, unit.id, **private),
        questions_ideas=toolbox_view.new_questions_and_ideas(session, unit.id, since, now, **private),
        votes=toolbox_view.closed_votes(session, unit.id, since, now, **private),
        actions_due=None if actions is None else [a for a in actions if a.due >= today],
        actions_overdue=None if actions is None else [a for a in actions if a.due < today],
        checkins=checkin.results(session, unit.id, now),
        comparison=evaluation.compare(session, run.id, now) if run else None,
        modules_done=sum(1 for m in modules if m.starts_at.astimezone(UTC) <= now.astimezone(UTC)),
        next_module=next((m for m in modules if m.starts_at.astimezone(UTC) > now.astimezone(UTC)), None),
        enrolled=run is not None,
    )


# Words -------------------------------------------------------------------------------------------------


def _capped(lines: list[str], language: str) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[:MAX_LINES], t(language, "summary.and_more", count=len(lines) - MAX_LINES)]


def _section(language: str, key: str, lines: list[str]) -> Text:
    return Text("\n".join([f"*{t(language, f'summary.sections.{key}')}*", *lines]))


def _cases(lang: str, data: SummaryData) -> list[str]:
    if data.cases is None:
        return [t(lang, "summary.not_available")]
    lines = [
        t(
            lang,
            "summary.case_step",
            step=t(lang, f"summary.steps.{step}"),
            count=len(titles),
            titles=", ".join(title or t(lang, "summary.private_case") for title in titles[:3])
            + (f" +{len(titles) - 3}" if len(titles) > 3 else ""),  # titles end in "…" themselves
        )
        for step in toolbox_view.steps()
        if (titles := data.cases.get(step))
    ]
    return lines or [t(lang, "summary.no_cases")]


def _activity(lang: str, data: SummaryData) -> list[str]:
    lines = []
    if data.questions_ideas is not None:
        questions, ideas = data.questions_ideas
        lines.append(
            t(
                lang,
                "summary.questions_ideas",
                questions=plural(lang, "counts.new_questions", questions),
                ideas=plural(lang, "counts.new_ideas", ideas),
            )
        )
    if data.votes:
        for vote in data.votes:
            if vote.hidden:
                lines.append(t(lang, "summary.vote_private"))
            elif len(vote.winners) > 1:
                winners = ", ".join(f"«{w}»" for w in vote.winners)
                dots = plural(lang, "counts.dots", vote.dots)
                lines.append(t(lang, "summary.vote_tied", title=vote.title, winners=winners, dots=dots))
            elif vote.winners:
                dots = plural(lang, "counts.dots", vote.dots)
                lines.append(t(lang, "summary.vote_won", title=vote.title, winner=vote.winners[0], dots=dots))
            else:
                lines.append(t(lang, "summary.vote_empty", title=vote.title))
    elif data.votes is not None:
        lines.append(t(lang, "summary.no_votes"))
    return lines or [t(lang, "summary.not_available")]


def _actions(lang: str, data: SummaryData) -> list[str]:
    if data.actions_due is None or data.actions_overdue is None:
        return [t(lang, "summary.not_available")]
    lines = [
        t(lang, "summary.action_overdue", text=a.text, owner=a.owner_name, day=day_text(lang, a.due))
        for a in data.actions_overdue
    ] + [
        t(lang, "summary.action_due", text=a.text, owner=a.owner_name, day=day_text(lang, a.due))
        for a in data.actions_due
    ]
    return _capped(lines, lang) or [t(lang, "summary.no_actions")]


def _checkin(lang: str, data: SummaryData) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    if not data.checkins:
        return [t(lang, "summary.no_checkins")], []
    lines, series = [], []
    latest = data.checkins[-1]
    for indicator in checkin.INDICATORS:
        values = [w.means.get(indicator) if w.means else None for w in data.checkins]
        series.append((t(lang, f"checkin.indicators.{indicator}"), values))
        if latest.means and indicator in latest.means:
            label = t(lang, f"checkin.indicators.{indicator}")
            lines.append(
                t(
                    lang,
                    "summary.indicator_line",
                    indicator=label,
                    value=decimal(lang, latest.means[indicator]),
                )
            )
        elif indicator in latest.bands:
            low, high = latest.bands[indicator]
            label = t(lang, f"checkin.indicators.{indicator}")
            lines.append(t(lang, "summary.indicator_line", indicator=label, value=f"{low}–{high}"))
    head = t(
        lang,
        "summary.checkin_week",
        week=week_number(latest.week),
        answers=latest.answers,
        asked=latest.asked,
    )
    if latest.means is None:
        lines.append(t(lang, "summary.checkin_hidden", min=MIN_GROUP_SIZE))
    if latest.comments:
        lines.append(t(lang, "summary.comments_title"))
        # Short enough that the section stays inside a Slack block (3000 characters).
        lines.extend(
            f"• {c if len(c) <= COMMENT_CHARS else c[:COMMENT_CHARS] + '…'}"
            for c in latest.comments[:MAX_LINES]
        )
    elif latest.answers:
        lines.append(t(lang, "summary.comments_hidden", min=MIN_COMMENT_GROUP))
    return [head, *lines], series


def _participation(lang: str, data: SummaryData) -> list[str]:
    lines = [
        t(lang, "summary.participation_week", week=week_number(w.week), answers=w.answers, asked=w.asked)
        for w in data.checkins[-PARTICIPATION_WEEKS:]
    ]
    comparison = data.comparison
    if comparison is not None and comparison.reason != "not_yet":
        lines.append(
            t(lang, "summary.evaluation_counts", before=comparison.before_count, after=comparison.after_count)
        )
    return lines or [t(lang, "summary.no_participation")]


def _evaluation(lang: str, data: SummaryData) -> list[str]:
    comparison = data.comparison
    if comparison is None or comparison.reason == "not_yet":
        return []
    if comparison.reason == "too_few":
        return [t(lang, "summary.evaluation_hidden", min=MIN_GROUP_SIZE)]
    lines = []
    for question, before, after in comparison.rows:
        label = t(lang, f"evaluation.short.{question}")
        if before is None:  # asked after the course only ("Er du blitt bedre …?")
            shown = decimal(lang, after)
            lines.append(t(lang, "summary.evaluation_after_only", question=label, after=shown))
        else:
            lines.append(
                t(
                    lang,
                    "summary.evaluation_line",
                    question=label,
                    before=decimal(lang, before),
                    after=decimal(lang, after),
                )
            )
    return lines


def _course(lang: str, data: SummaryData) -> list[str]:
    if not data.enrolled:
        return [t(lang, "summary.not_enrolled")]
    lines = [t(lang, "summary.modules_done", done=data.modules_done)]
    module = data.next_module
    if module is not None:
        lines.append(
            t(
                lang,
                "summary.next_module",
                module=module_name(lang, module.number, module.kind),
                when=when_text(lang, module.starts_at, data.timezone),
            )
        )
    else:
        lines.append(t(lang, "summary.course_done"))
    return lines


def render(
    lang: str, data: SummaryData, charts: Path | None, later: list[Callable[[], object]] | None = None
) -> Reply:
    """The summary in ``lang``. With ``later`` the chart is not drawn here but handed over to be drawn
    after the caller's transaction (the scheduler's ledger transaction must not wait for matplotlib)."""
    title = t(lang, "summary.title", unit=data.unit_name)
    zone = data.timezone
    period = t(
        lang,
        "summary.period",
        since=when_text(lang, data.since, zone),
        until=when_text(lang, data.until, zone),
    )
    blocks: list[Block] = [Header(title), Note(period)]
    blocks.append(_section(lang, "cases", _cases(lang, data)))
    blocks.append(_section(lang, "activity", _activity(lang, data)))
    blocks.append(_section(lang, "actions", _actions(lang, data)))
    checkin_lines, series = _checkin(lang, data)
    blocks.append(_section(lang, "checkin", checkin_lines))
    if charts is not None and any(v is not None for _, values in series for v in values):
        name = f"checkin-{data.unit_id}-{data.until.astimezone(UTC):%Y%m%d%H%M}-{lang}.png"
        draw = partial(
            render_trend_chart,
            [t(lang, "summary.week_label", week=week_number(w.week)) for w in data.checkins],
            dict(series),
            t(lang, "summary.chart_title"),
            charts / name,
        )
        if later is None:
            draw()
        else:
            later.append(draw)
        blocks.append(Image(str(charts / name), t(lang, "summary.chart_alt")))
    blocks.append(_section(lang, "participation", _participation(lang, data)))
    evaluation_lines = _evaluation(lang, data)
    if evaluation_lines:
        blocks.append(_section(lang, "evaluation", evaluation_lines))
    blocks.append(Divider())
    blocks.append(_section(lang, "course", _course(lang, data)))
    return Reply(fallback=f"{title} ({period})", blocks=tuple(blocks))


def build(
    session: Session, unit: Unit, now: datetime, language: str, charts: Path | None, *, reader_id: int
) -> Reply:
    """The summary on demand for one reader (who must be one of the parties, see handlers/summary.py)."""
    visible = access.party_only_visible_to_all(session, unit.id, [reader_id])
    return render(language, collect(session, unit, now, parties_only_visible=visible), charts)


# Who gets it -------------------------------------------------------------------------------------------


def recipients(session: Session, unit: Unit) -> tuple[list[Member], bool]:
    """The people the summary goes to, and whether the unit has a leader."""
    leaders = leaders_of(session, unit.id)
    if leaders and not settings_for(session, unit.id).summary_to_trio:
        return leaders, True
    return trio_of(session, unit.id), bool(leaders)


def _make(
    unit_id: int, charts: Path, later: list[Callable[[], object]]
) -> Callable[[Session, datetime], list[Effect]]:
    def make(session: Session, now: datetime) -> list[Effect]:
        unit = session.get(Unit, unit_id)
        run = runs.active_run(session, unit_id)
        if unit is None or run is None:
            raise Skip
        org = organisation_of(session, unit)
        people, has_leader = recipients(session, unit)
        admin = session.get(Member, run.admin_id) if run.admin_id else None
        if not people and admin is not None:
            people = [admin]  # nobody of the trio either: the admin keeps the summary from being lost
        # One text for all readers: it names parties-only material only if every reader may see it.
        visible = access.party_only_visible_to_all(session, unit.id, [m.id for m in people])
        data = collect(session, unit, now, parties_only_visible=visible)
        cache: dict[str, Reply] = {}

        def reply_in(lang: str) -> Reply:
            if lang not in cache:
                cache[lang] = render(lang, data, charts, later)
            return cache[lang]

        effects: list[Effect] = [direct(org, m, reply_in(language_of(m, unit))) for m in people]
        if not has_leader and admin is not None:
            lang = language_of(admin, unit)
            names = ", ".join(m.display_name or m.user_id for m in people) or "–"
            effects.append(
                direct(org, admin, Reply.text(t(lang, "summary.no_leader", unit=unit.name, names=names)))
            )
        if not effects:
            log.warning("weekly summary of unit %s has nobody to go to", unit_id)
        return effects

    return make


def summary_key(unit_id: int, moment: datetime, timezone: str) -> str:
    # Keyed by the local day it goes: a Monday that moves to Tuesday is still one summary.
    return f"summary:{unit_id}:{moment.astimezone(ZoneInfo(timezone)).date().isoformat()}"


def due_jobs(session: Session, now: datetime, charts: Path) -> list[Job]:
    jobs = []
    for run in runs.running_runs(session, now):
        unit = session.get(Unit, run.unit_id)
        if unit is None:
            continue
        moment = latest_summary_occurrence(session, unit, now)
        if moment is None or moment.astimezone(UTC) < run.created_at.astimezone(UTC):
            continue
        key = summary_key(unit.id, moment, unit.timezone)
        if not already_sent(session, [key]):
            later: list[Callable[[], object]] = []
            jobs.append(Job(key, unit.id, _make(unit.id, charts, later), later))
    return jobs


def next_at(session: Session, now: datetime) -> datetime | None:
    """The next weekly summary moment after ``now`` of any running unit."""
    found = [
        next_summary_after(session, unit, now)
        for run in runs.running_runs(session, now)
        if (unit := session.get(Unit, run.unit_id)) is not None
    ]
    return min(found, key=lambda m: m.astimezone(UTC)) if found else None
