"""The calendar days and clock times people type, for callers that only need "is it one?" (``None`` when
not). What people type is read by :mod:`bot.dates.parse`, the one parser of the bot; use it directly where
the person should hear what is wrong with what they typed.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.dates import parse


def parse_day(text: str, today: date) -> date | None:
    """A calendar day from what a person typed, or ``None`` if it is not one (or is not a valid one)."""
    try:
        return parse.parse_day(text, today)
    except parse.DateError:
        return None


def parse_clock(text: str) -> time | None:
    """A wall-clock time: "14:30", "14.30", "1430", "kl. 14", "9"; ``None`` if it is not one."""
    try:
        return parse.parse_clock(text)
    except parse.DateError:
        return None


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def parse_deadline(text: str, now: datetime, timezone: str) -> datetime:
    """A day, optionally with a time ("fredag", "3.12. 14:00", "i morgen kl. 12"); a day alone means through
    that day (midnight after it). Raises :class:`bot.dates.parse.DateError` naming what is wrong, also for a
    moment that has passed."""
    return parse.parse_deadline(text, now, ZoneInfo(timezone))
