"""Quiet time in the scheduler: the daylight-saving weeks (2026-03-29, 2026-10-25), 17 May, fellesferie.

The clock walks in fixed 30-minute steps (not from due moment to due moment), so a nudge that the time
change skipped or doubled would show up as missing or sent twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.course import plan as plan_module
from bot.course.models import DueNudge
from bot.dates.calendar import DeliveryWindow, next_allowed
from tests.console_driver import ConsoleDriver
from tests.course.course_helpers import keys, local, oslo, team, walk

STEP = timedelta(minutes=30)


def when_of(sent: list[tuple[datetime, str]]) -> dict[str, str]:
    return {key: local(when) for when, key in sent}


async def enrolled(make_bot, clock, now, start: str):  # type: ignore[no-untyped-def]
    clock.set(now.astimezone(UTC))
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await team(console)
    out = await console.as_("Kari", f"/parts kurs start {start}")
    assert "er meldt på kurset" in out, out
    return bot, console


async def test_spring_forward_week_2026_03_29(make_bot, clock) -> None:  # type: ignore[no-untyped-def]
    bot, _ = await enrolled(make_bot, clock, oslo(2026, 3, 16, 10), "2026-03-31 09:00")
    # Due moment to due moment up to the Friday, fixed steps over the weekend of the change, then on.
    sent = await walk(bot, clock, oslo(2026, 3, 27, 0))
    sent += await walk(bot, clock, oslo(2026, 3, 31, 0), STEP)
    sent += await walk(bot, clock, oslo(2026, 4, 2, 0))
    assert [k for k, n in Counter(keys(sent)).items() if n > 1] == []
    at = when_of(sent)
    # Before the change (CET, +0100) and after it (CEST, +0200): the same wall times, one hour apart in UTC.
    assert at["summary:1:2026-03-23"] == "2026-03-23 08:00 +0100"
    assert at["checkin:1:2026-W13"] == "2026-03-26 13:00 +0100"
    assert at["run:1:prepare:m1"] == "2026-03-27 10:00 +0100"
    assert at["checkin-reminder:1:2026-W13"] == "2026-03-27 13:00 +0100"
    assert at["summary:1:2026-03-30"] == "2026-03-30 08:00 +0200"
    assert at["run:1:baseline:m1"] == "2026-03-30 12:00 +0200"
    assert at["run:1:tool:m1"] == "2026-04-01 10:00 +0200"
    assert at["run:1:module-evaluation:m1"] == "2026-04-01 13:00 +0200"
    # Nothing at all on the weekend of the change.
    assert not [k for when, k in sent if local(when)[:10] in ("2026-03-28", "2026-03-29")]


async def test_fall_back_week_2026_10_25(make_bot, clock) -> None:  # type: ignore[no-untyped-def]
    bot, _ = await enrolled(make_bot, clock, oslo(2026, 10, 12, 10), "2026-10-27 09:00")
    sent = await walk(bot, clock, oslo(2026, 10, 23, 0))
    sent += await walk(bot, clock, oslo(2026, 10, 27, 0), STEP)
    sent += await walk(bot, clock, oslo(2026, 10, 29, 0))
    assert [k for k, n in Counter(keys(sent)).items() if n > 1] == []
    at = when_of(sent)
    assert at["summary:1:2026-10-19"] == "2026-10-19 08:00 +0200"
    assert at["checkin:1:2026-W43"] == "2026-10-22 13:00 +0200"
    assert at["run:1:prepare:m1"] == "2026-10-23 10:00 +0200"
    assert at["summary:1:2026-10-26"] == "2026-10-26 08:00 +0100"
    assert at["run:1:baseline:m1"] == "2026-10-26 12:00 +0100"
    assert at["run:1:tool:m1"] == "2026-10-28 10:00 +0100"
    # The repeated hour 02:00-03:00 on Sunday 25 October is walked twice in UTC; nothing goes then.
    assert not [k for when, k in sent if local(when).startswith("2026-10-25")]


def test_a_window_in_the_missing_or_repeated_hour_lands_on_a_weekday_once() -> None:
    window = DeliveryWindow(start=time(2, 0), end=time(3, 30))
    # A (strange) window inside the night hours that the change removes or repeats: Sunday is no working
    # day, so both land on Monday at the window start, in the right offset.
    assert local(next_allowed(oslo(2026, 3, 29, 2, 30), window)) == "2026-03-30 02:00 +0200"
    assert local(next_allowed(oslo(2026, 10, 25, 2, 30), window)) == "2026-10-26 02:00 +0100"


@pytest.fixture
def weekly_tool_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan whose tool nudge counts calendar days, so it can fall on 17 May or in fellesferie."""
    text = plan_module.plan_path().read_text(encoding="utf-8")
    text = text.replace(
        '  - id: tool\n    modules: [1, 3, 5]\n    when: {working_days: 1, time: "10:00"}',
        '  - id: tool\n    modules: [1, 3, 5]\n    when: {days: 7, time: "10:00"}',
    )
    assert 'when: {days: 7, time: "10:00"}' in text
    path = tmp_path / "nudges.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(plan_module, "plan_path", lambda: path)
    plan_module.load_plan.cache_clear()
    yield
    plan_module.load_plan.cache_clear()


async def test_nudge_due_on_17_may_moves_to_the_next_working_morning(  # type: ignore[no-untyped-def]
    make_bot, clock, database, weekly_tool_plan
) -> None:
    # Module 1 on Monday 10 May 2027: its tool nudge a week later falls on 17 May (a Monday holiday).
    bot, console = await enrolled(make_bot, clock, oslo(2027, 5, 3, 10), "2027-05-10 09:00")
    with database.transaction() as s:
        tool = s.scalar(select(DueNudge).where(DueNudge.key == "run:1:tool:m1"))
        assert local(tool.due_at) == "2027-05-18 09:00 +0200"
    sent = await walk(bot, clock, oslo(2027, 5, 16, 0))
    sent += await walk(bot, clock, oslo(2027, 5, 19, 0), timedelta(hours=1))
    at = when_of(sent)
    assert at["run:1:tool:m1"] == "2027-05-18 09:00 +0200"
    assert not [k for when, k in sent if local(when).startswith("2027-05-17")]
    assert console.transcript.count("== Prøv med personalet ==") == 1


async def test_nudges_in_fellesferie_wait_until_the_kindergarten_opens(  # type: ignore[no-untyped-def]
    make_bot, clock, database, weekly_tool_plan
) -> None:
    # Modules three weeks apart from 19 April 2027 put module 5 on Monday 12 July (week 28); weeks 29-30
    # are the summer closure. Module 6 moves to 16 August to leave room for the weekly exercises.
    bot, console = await enrolled(make_bot, clock, oslo(2027, 4, 12, 10), "2027-04-19 09:00")
    out = await console.as_("Kari", "/parts kurs flytt 6 2027-08-16 09:00")
    assert "Modul 6 er flyttet til mandag 16. august kl. 09.00." in out
    sent = await walk(bot, clock, oslo(2027, 7, 17, 0))
    sent += await walk(bot, clock, oslo(2027, 8, 2, 0), timedelta(hours=2))  # through the closure
    sent += await walk(bot, clock, oslo(2027, 8, 4, 0))
    at = when_of(sent)
    # The tool nudge (a week after module 5: 19 July, week 29) goes the first morning after the closure.
    assert at["run:1:tool:m5"] == "2027-08-02 09:00 +0200"
    # Nothing at all in the closure weeks: no nudges, no check-ins, no reminders, no exercises.
    assert not [k for when, k in sent if "2027-07-19" <= local(when)[:10] <= "2027-08-01"]
    # The weekly exercises of the closure weeks are left out; the one of week 31 is there.
    assert "run:1:exercise:m5:w1" not in at and "run:1:exercise:m5:w2" not in at
    assert at["run:1:exercise:m5:w3"] == "2027-08-02 11:00 +0200"
    # No check-in round in the closure weeks.
    assert not [k for k in at if k.startswith("checkin:1:2027-W29") or k.startswith("checkin:1:2027-W30")]


async def test_a_module_in_the_summer_closure_or_on_a_holiday_is_refused(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    _, console = await enrolled(make_bot, clock, oslo(2027, 1, 4, 10), "2027-01-11 09:00")
    out = await console.as_("Kari", "/parts kurs flytt 6 2027-07-21 09:00")
    assert "Modul 6 (onsdag 21. juli kl. 09.00) er i en uke barnehagen er sommerstengt." in out
    out = await console.type("/parts kurs flytt 6 2027-05-17 09:00")
    assert "Modul 6 (mandag 17. mai kl. 09.00) er på en helligdag." in out
