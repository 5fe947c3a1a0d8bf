"""The calendar days and clock times people type ("3.12.", "2026-12-03", "fredag", "i morgen", "kl. 14"),
in bokmål, nynorsk and English; used by plans, votes, HØRA and the course alike.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.dates.calendar import local_at

# Words for "today", "tomorrow" and the weekdays in bokmål, nynorsk and English (Monday = 0).
_DAY_WORDS = {
    "idag": 0, "i dag": 0, "today": 0, "imorgen": 1, "i morgen": 1, "imorgon": 1, "i morgon": 1,
    "tomorrow": 1,
}  # fmt: skip
_WEEKDAYS = {
    "mandag": 0, "måndag": 0, "monday": 0, "tirsdag": 1, "tysdag": 1, "tuesday": 1, "onsdag": 2,
    "wednesday": 2, "torsdag": 3, "thursday": 3, "fredag": 4, "friday": 4, "lørdag": 5, "laurdag": 5,
    "saturday": 5, "søndag": 6, "sundag": 6, "sunday": 6,
}  # fmt: skip
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{2}|\d{4})?)?\.?$")
_TIME = re.compile(r"^(?:kl\.?\s*)?(\d{1,2})(?:[:.]?(\d{2}))?$")


def parse_day(text: str, today: date) -> date | None:
    """A calendar day from what a person typed, or ``None`` if it is not one.

    A day without a year ("3.12.") means its next occurrence from ``today`` on, and a weekday name the
    next such day (today counts), because people plan forward.
    """
    word = " ".join(text.strip().lower().split())
    if word in _DAY_WORDS:
        return today + timedelta(days=_DAY_WORDS[word])
    if word in _WEEKDAYS:
        return today + timedelta(days=(_WEEKDAYS[word] - today.weekday()) % 7)
    try:
        if m := _ISO.match(word):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DOTTED.match(word):
            day, month = int(m[1]), int(m[2])
            if m[3]:
                year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
                return date(year, month, day)
            candidate = date(today.year, month, day)
            return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None  # 31.02. and friends
    return None


def parse_clock(text: str) -> time | None:
    """A wall-clock time: "14:30", "14.30", "1430", "kl. 14"."""
    m = _TIME.match(text.strip().lower())
    if not m:
        return None
    hour, minute = int(m[1]), int(m[2] or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def parse_deadline(text: str, now: datetime, timezone: str) -> datetime | None:
    """A day, optionally followed by a time ("fredag", "3.12. 14:00", "i morgen kl. 12"); a day alone
    means through that day (midnight after it). ``None`` if not understood; the caller checks the past."""

    today = local_today(now, timezone)
    words = text.split()
    for split in range(len(words), 0, -1):
        day = parse_day(" ".join(words[:split]), today)
        if day is None:
            continue
        rest = " ".join(words[split:])
        if not rest:
            return local_at(day + timedelta(days=1), time(0, 0), timezone)
        clock = parse_clock(rest)
        return local_at(day, clock, timezone) if clock is not None else None
    return None
