"""The closed loop: an action names the check-in indicator it should improve, and the case shows that
indicator's trend in the weeks before the action started and the weeks after.

Only what the weekly check-in already shows is used: a week below the minimum group size stays hidden
("–"), and so does a week where everyone gave the same score (its mean would be each person's answer; see
:func:`bot.course.survey.means`). The before and after figures are the average of the *shown* weekly means
only, and each needs at least one shown week; otherwise the text says the figures are hidden. No answer is
ever read here, only the rounds' published aggregates.

An action starts when its plan was agreed (it was a proposal before), or when it was added to an agreed
plan later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.course import checkin
from bot.course.privacy import MIN_GROUP_SIZE
from bot.course.unitcal import local_week, week_number, window_for
from bot.i18n import Translator, decimal, plural
from bot.storage.models import Unit
from bot.toolbox.models_plan import ActionItem, Plan

INDICATORS = checkin.INDICATORS
# How many closed weeks on each side of the start the trend shows.
WEEKS_BEFORE = 4
WEEKS_AFTER = 8

_WORDS = {
    "arbeidsflyt": "arbeidsflyt", "flyt": "arbeidsflyt", "workflow": "arbeidsflyt", "flow": "arbeidsflyt",
    "motivasjon": "motivasjon", "motivation": "motivasjon",
    "engasjement": "engasjement", "engagement": "engasjement",
    "involvering": "involvering", "involvert": "involvering", "involvement": "involvering",
    "tillit": "tillit", "trust": "tillit",
    "trygghet": "trygghet", "tryggleik": "trygghet", "trygg": "trygghet", "safety": "trygghet",
}  # fmt: skip
NONE_WORDS = ("ingen", "ingenting", "none", "-", "–")


def indicator_of(word: str) -> str | None:
    """``"Tryggleik"`` → ``"trygghet"``; None for a word that names no indicator."""
    return _WORDS.get(word.strip().lower().strip(".,:"))


@dataclass(frozen=True)
class Trend:
    indicator: str
    start_week: str  # "2026-W48": the week the action started
    weeks: tuple[tuple[str, float | None], ...]  # ("2026-W45", 3.4) or None where hidden
    before: float | None
    before_weeks: int  # shown weeks the before figure is made of
    after: float | None
    after_weeks: int


def _average(values: list[float]) -> float | None:
    if not values:
        return None
    mean = Decimal(str(sum(values))) / Decimal(len(values))
    return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def started_at(session: Session, action: ActionItem) -> datetime | None:
    """When the action started: the plan's agreement, or the action's own creation if added later."""
    plan = session.get(Plan, action.plan_id)
    if plan is None or plan.status != "agreed" or plan.agreed_at is None:
        return None
    created = action.created_at
    return max(plan.agreed_at, created, key=lambda m: m.astimezone(UTC))


def trend(session: Session, unit: Unit, indicator: str, start: datetime, now: datetime) -> Trend:
    """The indicator's weekly means around ``start``, from closed check-in rounds, thresholds kept."""
    start_week = local_week(start, window_for(session, unit))
    rows = checkin.results(session, unit.id, now, limit=52, min_group=MIN_GROUP_SIZE)
    before = [r for r in rows if r.week < start_week][-WEEKS_BEFORE:]
    after = [r for r in rows if r.week >= start_week][:WEEKS_AFTER]

    def shown(r: checkin.WeekResult) -> float | None:
        return r.means.get(indicator) if r.means is not None else None

    before_values = [v for v in map(shown, before) if v is not None]
    after_values = [v for v in map(shown, after) if v is not None]
    return Trend(
        indicator=indicator,
        start_week=start_week,
        weeks=tuple((r.week, shown(r)) for r in [*before, *after]),
        before=_average(before_values),
        before_weeks=len(before_values),
        after=_average(after_values),
        after_weeks=len(after_values),
    )


def action_trend(session: Session, action: ActionItem, now: datetime) -> Trend | None:
    """The trend of the action's indicator, or None when it names none or has not started."""
    if action.indicator not in INDICATORS:
        return None
    plan = session.get(Plan, action.plan_id)
    unit = session.get(Unit, plan.unit_id) if plan is not None else None
    start = started_at(session, action)
    if unit is None or start is None or action.indicator is None:
        return None
    return trend(session, unit, action.indicator, start, now)


def describe(tr: Translator, found: Trend) -> str:
    """One line for chat and record: "Trygghet: før 3,1 (3 uker) → etter 3,8 (2 uker)" and the weeks."""
    name = tr(f"checkin.indicators.{found.indicator}")
    week = week_number(found.start_week)
    if found.before is None and found.after is None:
        return tr("indicator.hidden", indicator=name, week=week, min=MIN_GROUP_SIZE)
    weeks = " · ".join(
        tr("indicator.week", week=week_number(label), value=decimal(tr.language, value))
        + (" ▸" if label == found.start_week else "")
        for label, value in found.weeks
    )
    return tr(
        "indicator.line",
        indicator=name,
        week=week,
        before=decimal(tr.language, found.before),
        before_weeks=plural(tr.language, "counts.weeks", found.before_weeks),
        after=decimal(tr.language, found.after),
        after_weeks=plural(tr.language, "counts.weeks", found.after_weeks),
        weeks=weeks,
        min=MIN_GROUP_SIZE,
    )


def case_trends(session: Session, plan_id: int, now: datetime) -> list[tuple[ActionItem, Trend | None]]:
    """Every action of the plan that names an indicator, with its trend (None before it started)."""
    items = session.scalars(
        select(ActionItem)
        .where(ActionItem.plan_id == plan_id, ActionItem.indicator.is_not(None))
        .order_by(ActionItem.number)
    ).all()
    return [(item, action_trend(session, item, now)) for item in items]


def lines(tr: Translator, session: Session, plan_id: int, now: datetime) -> list[str]:
    """The case's indicator lines: "Tiltak 2 skal bedre trygghet: …"."""
    out = []
    for item, found in case_trends(session, plan_id, now):
        name = tr(f"checkin.indicators.{item.indicator}")
        head = tr("indicator.action", number=item.number, indicator=name.lower())
        body = describe(tr, found) if found is not None else tr("indicator.not_started")
        out.append(f"{head} {body}")
    return out
