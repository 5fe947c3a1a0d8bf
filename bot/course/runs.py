"""Course runs: enrolling a unit with its six module dates, moving a module later, and what is running.

Every change to the dates replans the run's pending nudges (:func:`bot.course.nudges.replan`), so the plan
follows the modules. Mistakes a person can make (a date in the past, modules out of order, a module on a day
the kindergarten is closed) are refused with a :class:`UserError` that says which module and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.chat.context import UserError
from bot.course.models import CourseModule, CourseRun
from bot.course.nudges import cancel_pending, replan
from bot.course.plan import MODULE_COUNT, load_plan
from bot.course.unitcal import window_for
from bot.course.words import when_text
from bot.dates import parse as dates
from bot.dates.calendar import DeliveryWindow, is_working_day, local_at, norwegian_public_holidays
from bot.dates.calendar import next_working_day as _next_working_day
from bot.i18n import t
from bot.storage.models import Member, Unit

# Default spacing when only the first module's date is given; move single modules with "kurs flytt".
DEFAULT_GAP = timedelta(weeks=3)
# Kindergartens are open about 07:00-17:00 (DOMAIN.md). A gathering of the whole staff in that time would
# leave the children without adults, so staff gatherings go in the evening or on a planning day.
OPENING_HOURS = (time(7, 0), time(17, 0))
# Staff meetings in kindergartens are usually held in the evening, after closing.
STAFF_GATHERING_TIME = time(18, 0)
STAFF = "staff"
# Check-ins and weekly summaries go on for a while after module 6, so the evaluation shows up in them.
RUN_TAIL = timedelta(weeks=4)


# Reading -----------------------------------------------------------------------------------------------


def active_run(session: Session, unit_id: int) -> CourseRun | None:
    return session.scalar(
        select(CourseRun)
        .where(CourseRun.unit_id == unit_id, CourseRun.status == "active")
        .order_by(CourseRun.id.desc())
    )


def modules_of(session: Session, run_id: int) -> list[CourseModule]:
    return list(
        session.scalars(
            select(CourseModule).where(CourseModule.run_id == run_id).order_by(CourseModule.number)
        )
    )


def is_running(session: Session, run: CourseRun, now: datetime) -> bool:
    """Active, and module 6 is less than :data:`RUN_TAIL` ago."""
    if run.status != "active":
        return False
    modules = modules_of(session, run.id)
    return bool(modules) and now < modules[-1].starts_at + RUN_TAIL


def running_runs(session: Session, now: datetime) -> list[CourseRun]:
    """Active runs whose module 6 is less than :data:`RUN_TAIL` ago (one query: every tick asks)."""
    last = (
        select(CourseModule.run_id, func.max(CourseModule.starts_at).label("last"))
        .group_by(CourseModule.run_id)
        .subquery()
    )
    rows = session.execute(
        select(CourseRun, last.c.last)
        .join(last, last.c.run_id == CourseRun.id)
        .where(CourseRun.status == "active")
        .order_by(CourseRun.id)
    ).all()
    return [run for run, final in rows if now < _aware(final) + RUN_TAIL]


def _aware(moment: datetime) -> datetime:
    # An aggregate bypasses the column type, so SQLite hands back a naive (UTC) value or even a string.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def next_module(session: Session, run_id: int, now: datetime) -> CourseModule | None:
    return next((m for m in modules_of(session, run_id) if m.starts_at > now), None)


# Parsing and checking dates ----------------------------------------------------------------------------


def parse_moment(text: str, timezone: str, now: datetime, default: time | None = None) -> datetime:
    """A module start from what a person typed: "1.12. kl 9", "2027-01-11 09:00", "mandag 13.30", "11.1."
    (``default`` time when none is given); the one parser of the toolbox (:mod:`bot.dates.parse`), with its
    specific errors. Whether the moment has passed is :func:`check_starts`' question."""
    zone = ZoneInfo(timezone)
    when = dates.parse_when(text, now.astimezone(zone).date())
    if when.day is None:
        raise UserError("course.bad_date", value=text[:20])
    at = when.clock or default
    if at is None:
        raise UserError("course.bad_time", value="")
    return local_at(when.day, at, timezone)


def default_starts(first: datetime, window: DeliveryWindow) -> list[datetime]:
    """The first start as given, then five more :data:`DEFAULT_GAP` apart, each moved to a working day
    outside romjul (the given one is checked, not moved: a person typed it). Digital modules keep the first
    one's wall time; staff gatherings are put at :data:`STAFF_GATHERING_TIME`, after closing."""
    local = first.astimezone(window.zone)
    kinds = load_plan().module_kinds
    starts = [first]
    for number in range(2, MODULE_COUNT + 1):
        day = local.date() + DEFAULT_GAP * (number - 1)
        while True:
            day = _next_working_day(day, window)
            if not _in_romjul(day):
                break
            day += timedelta(days=1)
        at = STAFF_GATHERING_TIME if kinds[number] == STAFF else local.time()
        starts.append(local_at(day, at, window.zone))
    return starts


def _in_romjul(d: date) -> bool:
    # Julaften to nyttårsaften: many are on holiday and the rest cover for them; no time for a course.
    return d.month == 12 and d.day >= 24


def _closed_reason(d: date, window: DeliveryWindow) -> str:
    if d.weekday() >= 5:
        return "weekend"
    if d in norwegian_public_holidays(d.year):
        return "holiday"
    if d.isocalendar().week in window.summer_closure_weeks:
        return "summer"
    return "closed"


def _check_day(number: int, start: datetime, window: DeliveryWindow, language: str) -> None:
    """A module on a closed day is refused; a staff gathering also while the children are there.

    A planning day (one of the unit's closed dates) is closed for the children, so it is exactly the day
    for a staff gathering, at any time; on other working days the gathering must be outside opening hours.
    """
    when = when_text(language, start, window.timezone)
    local = start.astimezone(window.zone)
    day = local.date()
    staff = load_plan().module_kinds[number] == STAFF
    if staff and day in window.closed_dates and day.weekday() < 5 and not _in_romjul(day):
        return
    if not is_working_day(day, window):
        reason = t(language, f"course.closed.{_closed_reason(day, window)}")
        raise UserError("course.closed_day", module=number, when=when, reason=reason)
    if _in_romjul(day):
        raise UserError("course.romjul", module=number, when=when)
    if staff and OPENING_HOURS[0] <= local.time() < OPENING_HOURS[1]:
        raise UserError("course.staff_while_open", module=number, when=when)


def check_starts(
    starts: Sequence[datetime],
    now: datetime,
    window: DeliveryWindow,
    language: str,
    changed: Sequence[int] | None = None,
) -> None:
    """Refuse dates in the past, on closed days or in romjul, staff gatherings while the children are there,
    and modules out of order. ``changed`` limits the past/day checks to the modules being set (modules
    already held may lie in the past)."""
    numbers = changed if changed is not None else range(1, len(starts) + 1)
    for number in numbers:
        start = starts[number - 1]
        when = when_text(language, start, window.timezone)
        if start.astimezone(UTC) <= now.astimezone(UTC):
            raise UserError("course.in_past", module=number, when=when)
        _check_day(number, start, window, language)
    for number in range(2, len(starts) + 1):
        if starts[number - 1].astimezone(UTC) <= starts[number - 2].astimezone(UTC):
            raise UserError(
                "course.out_of_order",
                module=number,
                previous=number - 1,
                when=when_text(language, starts[number - 1], window.timezone),
                previous_when=when_text(language, starts[number - 2], window.timezone),
            )


# Changing ----------------------------------------------------------------------------------------------


def enrol(
    session: Session, unit: Unit, admin: Member, starts: Sequence[datetime], now: datetime, language: str
) -> CourseRun:
    """Enrol ``unit`` with six module starts; the enrolling person becomes the run's course admin."""
    current = active_run(session, unit.id)
    if current is not None:
        if is_running(session, current, now):
            raise UserError("course.already_enrolled")
        finish(session, current)  # a run long over makes room for the next one

    if len(starts) != MODULE_COUNT:
        raise UserError("course.need_six", count=len(starts))
    window = window_for(session, unit)
    check_starts(starts, now, window, language)
    kinds = load_plan().module_kinds
    run = CourseRun(unit_id=unit.id, admin_id=admin.id, status="active", created_at=now)
    session.add(run)
    session.flush()
    for number, start in enumerate(starts, start=1):
        session.add(CourseModule(run_id=run.id, number=number, kind=kinds[number], starts_at=start))
    session.flush()
    replan(session, run, now)
    return run


def move_module(
    session: Session, run: CourseRun, number: int, new_start: datetime, now: datetime, language: str
) -> CourseModule:
    modules = modules_of(session, run.id)
    if not 1 <= number <= len(modules):
        raise UserError("course.no_such_module", module=number)
    module = modules[number - 1]
    unit = session.get(Unit, run.unit_id)
    if unit is None:
        raise UserError("errors.no_unit")
    if module.starts_at.astimezone(UTC) <= now.astimezone(UTC):
        raise UserError("course.module_done", module=number)
    starts = [m.starts_at for m in modules]
    starts[number - 1] = new_start
    check_starts(starts, now, window_for(session, unit), language, changed=[number])
    module.starts_at = new_start
    session.flush()
    replan(session, run, now)
    return module


def finish(session: Session, run: CourseRun) -> None:
    """End a run: its pending nudges are dropped, check-ins and summaries stop."""
    run.status = "finished"
    cancel_pending(session, run.id)
    session.flush()


def replan_unit(session: Session, unit: Unit, now: datetime) -> None:
    """After the unit's calendar changed: its active run's pending nudges follow."""
    run = active_run(session, unit.id)
    if run is not None:
        replan(session, run, now)
