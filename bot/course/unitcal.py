"""A unit's calendar and summary choices, read from :class:`CourseSettings` with the defaults filled in."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from bot.course.models import CourseSettings
from bot.dates.calendar import DeliveryWindow, local_at, next_working_day
from bot.dates.days import parse_clock, parse_day
from bot.storage.models import Unit

# The moment something weekly happens in the week starting on the given Monday (None: not that week).
WeeklyMoment = Callable[[date], datetime | None]


def parse_hhmm(text: str) -> time | None:
    """``"9:00"``, ``"09.00"``, ``"0900"``, ``"kl. 9"`` → 09:00; None when it is not a time of day.

    The same words as everywhere in the toolbox (:func:`bot.dates.days.parse_clock`).
    """
    return parse_clock(text)


def hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def parse_weeks(text: str) -> tuple[int, ...] | None:
    """``"29,30"`` or ``"29 30 31"`` → (29, 30, 31); ``""`` → () (no summer closure); None when invalid."""
    words = [w for w in re.split(r"[\s,;]+", text.strip()) if w]
    if not all(w.isdigit() and 1 <= int(w) <= 53 for w in words):
        return None
    return tuple(sorted({int(w) for w in words}))


def parse_days(text: str, today: date) -> tuple[date, ...] | None:
    """``"2027-01-04, 13.08.2027"`` → those days, sorted; ``""`` → (); None when one is not a date.

    The same day words as everywhere in the toolbox; a day without a year is its next occurrence.
    """
    words = [w for w in re.split(r"[\s,;]+", text.strip()) if w]
    days = [parse_day(w, today) for w in words]
    if any(d is None for d in days):
        return None
    return tuple(sorted({d for d in days if d is not None}))


def stored_days(text: str) -> frozenset[date]:
    """The planning days as stored (ISO dates); a value the code did not write is ignored, not fatal."""
    found = set()
    for word in text.split(","):
        try:
            found.add(date.fromisoformat(word.strip()))
        except ValueError:
            continue
    return frozenset(found)


# Column defaults apply at INSERT only; a detached default row gets them from here.
_DEFAULTS = {
    column.key: column.default.arg
    for column in CourseSettings.__table__.columns
    if column.default is not None and not callable(column.default.arg)
}


def settings_for(session: Session, unit_id: int) -> CourseSettings:
    """The unit's settings; a detached default row (not added to the session) when it has none."""
    row = session.get(CourseSettings, unit_id)
    return row if row is not None else CourseSettings(unit_id=unit_id, **_DEFAULTS)


def window_for(session: Session, unit: Unit) -> DeliveryWindow:
    row = settings_for(session, unit.id)
    start = parse_hhmm(row.window_start) or time(9, 0)
    end = parse_hhmm(row.window_end) or time(15, 0)
    return DeliveryWindow(
        timezone=unit.timezone or "Europe/Oslo",
        start=start,
        end=end,
        summer_closure_weeks=parse_weeks(row.summer_weeks) or (),
        closed_dates=stored_days(row.planning_days or ""),
    )


def week_label(d: date) -> str:
    iso = d.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def week_number(label: str) -> str:
    """``"2026-W48"`` → ``"48"``, for texts ("uke 48")."""
    return label.rsplit("W", 1)[-1].lstrip("0") or "0"


def local_week(moment: datetime, window: DeliveryWindow) -> str:
    return week_label(moment.astimezone(window.zone).date())


def summary_occurrence_for_week(monday: date, weekday: int, at: time, window: DeliveryWindow) -> datetime:
    """When the summary of the week starting ``monday`` goes: its weekday at ``at``, or the same time on the
    next working day after a holiday. Not bound to the daily nudge window (08:00 is before it)."""
    return local_at(next_working_day(monday + timedelta(days=weekday), window), at, window.zone)


def latest_weekly(now: datetime, window: DeliveryWindow, moment_of_week: WeeklyMoment) -> datetime | None:
    """The latest of last week's and this week's moment (``moment_of_week(monday)``) at or before ``now``.

    Two weeks are enough: a moment moved by a holiday stays within its week or lands in the next one.
    """
    today = now.astimezone(window.zone).date()
    monday = today - timedelta(days=today.weekday())
    found = None
    for base in (monday - timedelta(days=7), monday):
        moment = moment_of_week(base)
        # Instants, not wall times: two Oslo datetimes compare by wall clock and misorder the October hour.
        if moment is not None and moment.astimezone(UTC) <= now.astimezone(UTC):
            found = moment
    return found


def latest_summary_occurrence(session: Session, unit: Unit, now: datetime) -> datetime | None:
    """The most recent summary moment at or before ``now`` (this week's or last week's)."""
    window = window_for(session, unit)
    row = settings_for(session, unit.id)
    at = parse_hhmm(row.summary_time) or time(8, 0)
    return latest_weekly(
        now, window, lambda monday: summary_occurrence_for_week(monday, row.summary_weekday, at, window)
    )


def next_summary_after(session: Session, unit: Unit, moment: datetime) -> datetime:
    """The first summary moment strictly after ``moment``."""
    window = window_for(session, unit)
    row = settings_for(session, unit.id)
    at = parse_hhmm(row.summary_time) or time(8, 0)
    return next_weekly(
        moment, window, lambda monday: summary_occurrence_for_week(monday, row.summary_weekday, at, window)
    )


def next_weekly(
    moment: datetime, window: DeliveryWindow, moment_of_week: Callable[[date], datetime]
) -> datetime:
    """The first ``moment_of_week(monday)`` strictly after ``moment``, comparing instants (UTC)."""
    today = moment.astimezone(window.zone).date()
    base = today - timedelta(days=today.weekday())
    while True:
        candidate = moment_of_week(base)
        if candidate.astimezone(UTC) > moment.astimezone(UTC):
            return candidate
        base += timedelta(days=7)
