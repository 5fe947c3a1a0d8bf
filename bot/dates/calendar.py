"""When may the bot speak to a unit? Working days, holidays, summer closure and a daily window.

Everything here is pure: every function takes the moment it reasons about as an argument and nothing reads
the clock, so the scheduler and the tests can drive time themselves.

Daylight saving: comparisons and arithmetic go through UTC, because Python compares two datetimes that share
a tzinfo by wall time alone (ignoring ``fold``), which is wrong around the October change. Wall times are
turned into instants with :func:`local_at`, which moves a time inside the March gap forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

# A misconfigured policy (every week closed, say) must fail loudly rather than loop forever.
_MAX_DAYS_AHEAD = 800


@dataclass(frozen=True)
class DeliveryWindow:
    """A unit's calendar policy: when nudges and reminders may be delivered.

    The daily window is half-open: ``start`` is allowed, ``end`` is not, so a 15:00 end means the last
    allowed minute is 14:59 and a nudge due at 15:00 waits until the next working day.
    """

    timezone: str = "Europe/Oslo"
    start: time = time(9, 0)
    end: time = time(15, 0)
    # ISO week numbers, applied to every year (kindergartens close the same weeks each summer).
    summer_closure_weeks: tuple[int, ...] = (29, 30)
    # One-off closed days such as planning days (planleggingsdager).
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    # Days kindergartens close every year although they are not public holidays: julaften, nyttårsaften.
    closed_month_days: tuple[tuple[int, int], ...] = ((12, 24), (12, 31))

    def __post_init__(self) -> None:
        # Fail at configuration time, not at 3 a.m. inside the scheduler.
        ZoneInfo(self.timezone)
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window start and end are wall times; give them without tzinfo")
        if not self.start < self.end:
            raise ValueError(f"window start {self.start} must be before end {self.end}")
        bad_weeks = [w for w in self.summer_closure_weeks if not 1 <= w <= 53]
        if bad_weeks:
            raise ValueError(f"ISO weeks are 1-53, got {bad_weeks}")
        # Accept any iterable of dates from callers but keep the frozen instance hashable.
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        object.__setattr__(self, "summer_closure_weeks", tuple(self.summer_closure_weeks))
        object.__setattr__(self, "closed_month_days", tuple(self.closed_month_days))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


DEFAULT_WINDOW = DeliveryWindow()


@cache
def norwegian_public_holidays(year: int) -> frozenset[date]:
    """The official Norwegian public holidays of ``year`` (cached: the set never changes).

    The ``holidays`` package can also count every Sunday as a holiday in Norway (``include_sundays``);
    we ask for the official days only, and Sundays are excluded as weekend days anyway.
    """
    # Imported on first use: the package loads every calendar it knows (lunar, Hindu, Tibetan …, about
    # 3 MB), which a server that never reasons about a date (a Slack-only one answering commands) need not
    # hold. Not ``holidays.countries.norway``: that package imports every country (about 11 MB).
    import holidays

    return frozenset(holidays.country_holidays("NO", years=year).keys())


def is_working_day(d: date, window: DeliveryWindow = DEFAULT_WINDOW) -> bool:
    """Monday–Friday, not a public holiday, not in the summer closure, not a closed day of the unit."""
    if d.weekday() >= 5:
        return False
    if d in norwegian_public_holidays(d.year):
        return False
    if d.isocalendar().week in window.summer_closure_weeks:
        return False
    if (d.month, d.day) in window.closed_month_days:
        return False
    return d not in window.closed_dates


def next_working_day(d: date, window: DeliveryWindow = DEFAULT_WINDOW) -> date:
    """``d`` itself when it is a working day, otherwise the first working day after it."""
    for offset in range(_MAX_DAYS_AHEAD):
        candidate = d + timedelta(days=offset)
        if is_working_day(candidate, window):
            return candidate
    raise ValueError(f"no working day within {_MAX_DAYS_AHEAD} days of {d}; check the unit's calendar")


def _zone(tz: tzinfo | str) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _require_aware(moment: datetime) -> None:
    # A naive datetime has no defined instant; guessing its zone is how nudges end up an hour off.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")


def local_at(d: date, t: time, tz: tzinfo | str) -> datetime:
    """The aware datetime for wall time ``t`` on ``d`` in ``tz``, normalised to a real instant.

    A wall time inside a spring-forward gap (02:30 on 2026-03-29 in Oslo) does not exist; it moves forward
    by the gap (to 03:30). An ambiguous wall time in the autumn takes its first occurrence (``fold=0``).
    """
    zone = _zone(tz)
    wall = datetime.combine(d, t.replace(tzinfo=None, fold=0), tzinfo=zone)
    # The round trip through UTC turns a nonexistent wall time into the real one after the gap.
    return wall.astimezone(UTC).astimezone(zone)


def _window_bounds(d: date, window: DeliveryWindow) -> tuple[datetime, datetime]:
    zone = window.zone
    return local_at(d, window.start, zone), local_at(d, window.end, zone)


def is_allowed(moment: datetime, window: DeliveryWindow = DEFAULT_WINDOW) -> bool:
    """Whether a delivery at ``moment`` falls on a working day inside the unit's daily window."""
    _require_aware(moment)
    local = moment.astimezone(window.zone)
    if not is_working_day(local.date(), window):
        return False
    start, end = _window_bounds(local.date(), window)
    # Compare instants in UTC: same-tzinfo comparison ignores fold and misorders the repeated hour.
    instant = moment.astimezone(UTC)
    return start.astimezone(UTC) <= instant < end.astimezone(UTC)


def next_allowed(moment: datetime, window: DeliveryWindow = DEFAULT_WINDOW) -> datetime:
    """The first instant at or after ``moment`` that is on a working day inside the window.

    ``moment`` may be in any zone; the result is in the unit's zone. A moment already allowed is returned
    unchanged (as the same instant); otherwise the result is a window start.
    """
    _require_aware(moment)
    zone = window.zone
    instant = moment.astimezone(UTC)
    day = moment.astimezone(zone).date()
    for _ in range(_MAX_DAYS_AHEAD):
        day = next_working_day(day, window)
        start, end = _window_bounds(day, window)
        if instant < start.astimezone(UTC):
            return start
        if instant < end.astimezone(UTC):
            return instant.astimezone(zone)
        day += timedelta(days=1)
    raise ValueError(f"no allowed moment within {_MAX_DAYS_AHEAD} days of {moment}; check the calendar")
