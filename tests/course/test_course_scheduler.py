"""The APScheduler side: ``build_scheduler(bot).start()`` beats at once and then every interval;
``shutdown()`` stops it and gives up the lead. Time for the bot is still the injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC

from bot.course.scheduler import CourseScheduler, build_scheduler, next_due
from tests.console_driver import ConsoleDriver
from tests.course.course_helpers import local, oslo, team


async def test_start_beats_at_once_and_shutdown_stops(make_bot, clock) -> None:  # type: ignore[no-untyped-def]
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await team(console)
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    assert local(next_due(bot, clock())) == "2027-01-07 10:00 +0100"
    clock.set(oslo(2027, 1, 7, 10).astimezone(UTC))

    scheduler = build_scheduler(bot, interval=3600)
    assert isinstance(scheduler, CourseScheduler)
    # Know when APScheduler's first beat has finished, instead of polling the transcript against a clock.
    beaten = asyncio.Event()
    real_beat = scheduler.beat

    async def beat() -> object:
        try:
            return await real_beat()
        finally:
            beaten.set()

    scheduler.beat = beat  # type: ignore[method-assign]
    scheduler.start()
    scheduler.start()  # a second start changes nothing
    try:
        job = scheduler._scheduler.get_job("course.beat") if scheduler._scheduler else None
        assert job is not None and job.max_instances == 1 and job.coalesce
        # The first beat runs right away in the event loop (the hourly interval would never come here).
        await asyncio.wait_for(beaten.wait(), timeout=60)
        # Module 1 is for the trio: one direct message to each of them.
        assert console.transcript.count("[direktemelding til Ola] Partsbot:\n  == Snart: neste modul ==") == 1
        assert console.transcript.count("== Snart: neste modul ==") == 3
        assert scheduler.is_leader  # SQLite: the one process leads
    finally:
        scheduler.shutdown()
    assert scheduler._scheduler is None
    scheduler.shutdown()  # idempotent


async def test_tick_runs_the_toolbox_hooks_closing_votes_past_their_deadline(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from bot.course.scheduler import tick
    from bot.toolbox.models_plan import Vote

    clock.set(oslo(2026, 11, 24, 10).astimezone(UTC))
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await team(console)
    await console.as_("Ola", "/parts stemme")
    out = await console.type("Egen liste", "A; B", "3", "2", "i morgen")
    assert "== Prikkstemming: Egen liste ==" in out
    await tick(bot, clock())
    with database.transaction() as s:
        assert s.scalar(select(Vote.status)) == "open"
    clock.set(oslo(2026, 11, 26, 0, 30).astimezone(UTC))  # "through tomorrow" is over
    await tick(bot, clock())
    with database.transaction() as s:
        assert s.scalar(select(Vote.status)) == "closed"
    assert "Ingen stemte." in console.take()
