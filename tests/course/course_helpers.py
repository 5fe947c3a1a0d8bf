"""Shared steps of the course tests: a team in the console, enrolment, and walking simulated time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import Partsbot
from bot.course.scheduler import next_due, tick
from tests.conftest import FakeClock
from tests.console_driver import ConsoleDriver

OSLO = ZoneInfo("Europe/Oslo")
TEAM = (
    ("Kari", "leder"),
    ("Ola", "verneombud"),
    ("Siri", "tillitsvalgt"),
    ("Per", "ansatt"),
    ("Aisha", "ansatt"),
    ("Jonas", "ansatt"),
)


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


def local(moment: datetime) -> str:
    """``"2026-03-27 10:00 +0100"``: wall time and offset in Oslo, for readable assertions."""
    return moment.astimezone(OSLO).strftime("%Y-%m-%d %H:%M %z")


async def team(console: ConsoleDriver, people: Iterable[tuple[str, str]] = TEAM) -> None:
    for name, role in people:
        await console.type(f"/som {name} {role}")


async def walk(
    bot: Partsbot, clock: FakeClock, until: datetime, step: timedelta | None = None
) -> list[tuple[datetime, str]]:
    """Move the clock to ``until``, ticking at every due moment (or every ``step``); return (when, key) of
    every job sent, in order."""
    sent: list[tuple[datetime, str]] = []
    end = until.astimezone(UTC)
    while True:
        if step is not None:
            moment: datetime | None = clock().astimezone(UTC) + step
        else:
            moment = next_due(bot, clock())
        if moment is None or moment > end:
            break
        clock.set(moment.astimezone(UTC))
        report = await tick(bot, clock())
        assert report.failed == [], report.failed
        sent.extend((clock(), key) for key in report.sent)
    clock.set(end)
    report = await tick(bot, clock())
    sent.extend((clock(), key) for key in report.sent)
    return sent


def keys(sent: list[tuple[datetime, str]]) -> list[str]:
    return [key for _, key in sent]
