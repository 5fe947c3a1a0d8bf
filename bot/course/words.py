"""Dates and module names as people read them, in their language ("tirsdag 12. januar kl. 09:00")."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.i18n import clock, raw, t


def _names(language: str, key: str) -> list[str]:
    value = raw(language, key)
    return [str(v) for v in value] if isinstance(value, list) else []


def day_text(language: str, d: date) -> str:
    weekdays = _names(language, "course.weekdays")
    months = _names(language, "course.months")
    if len(weekdays) != 7 or len(months) != 12:
        return d.isoformat()
    return t(language, "course.day", weekday=weekdays[d.weekday()], day=d.day, month=months[d.month - 1])


def when_text(language: str, moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return t(
        language, "course.when", day=day_text(language, local.date()), time=clock(language, local.time())
    )


def module_name(language: str, number: int, kind: str) -> str:
    return t(language, "course.module_name", number=number, kind=t(language, f"course.kinds.{kind}"))
