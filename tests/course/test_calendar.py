"""Calendar policy of the course rhythm: working days, daily window and daylight saving in Europe/Oslo."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from bot.course.unitcal import next_weekly, summary_occurrence_for_week
from bot.dates.calendar import (
    DeliveryWindow,
    is_allowed,
    is_working_day,
    local_at,
    next_allowed,
    next_working_day,
)

OSLO = ZoneInfo("Europe/Oslo")
WINDOW = DeliveryWindow()
MONDAY = 0


def oslo(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=OSLO, fold=fold)


def assert_same(actual: datetime, expected: datetime) -> None:
    # Same instant *and* same wall clock in Oslo: aware == compares instants only across zones.
    assert actual.astimezone(UTC) == expected.astimezone(UTC)
    assert actual.tzinfo is not None
    assert actual.utcoffset() == expected.utcoffset()
    assert actual.replace(tzinfo=None) == expected.replace(tzinfo=None)


# --- working days ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 30), True),  # an ordinary Monday
        (date(2026, 3, 28), False),  # Saturday
        (date(2026, 3, 29), False),  # Sunday
        (date(2026, 4, 2), False),  # skjærtorsdag
        (date(2026, 4, 3), False),  # langfredag
        (date(2026, 4, 6), False),  # 2. påskedag
        (date(2026, 4, 1), True),  # onsdag før skjærtorsdag is a working day
        (date(2026, 4, 7), True),
        (date(2026, 5, 1), False),  # 1. mai
        (date(2026, 5, 14), False),  # Kristi himmelfartsdag
        (date(2026, 5, 25), False),  # 2. pinsedag
        (date(2026, 5, 18), True),  # the Monday after 17 May (a Sunday in 2026)
        (date(2026, 7, 10), True),  # Friday of week 28
        (date(2026, 7, 13), False),  # Monday of week 29, fellesferie
        (date(2026, 7, 24), False),  # Friday of week 30
        (date(2026, 7, 27), True),  # Monday of week 31
        (date(2026, 12, 24), False),  # julaften (Thursday, not a public holiday)
        (date(2026, 12, 31), False),  # nyttårsaften
        (date(2026, 12, 28), True),  # romjul is open
        (date(2027, 1, 1), False),
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert is_working_day(day, WINDOW) is expected


def test_planning_days_and_custom_summer_closure() -> None:
    window = DeliveryWindow(
        closed_dates=frozenset({date(2026, 8, 14)}), summer_closure_weeks=(28, 29, 30, 31)
    )
    assert not is_working_day(date(2026, 8, 14), window)
    assert not is_working_day(date(2026, 7, 31), window)  # Friday of week 31
    assert is_working_day(date(2026, 8, 3), window)
    assert next_working_day(date(2026, 7, 6), window) == date(2026, 8, 3)


def test_window_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        DeliveryWindow(start=time(15), end=time(9))
    with pytest.raises(ValueError):
        DeliveryWindow(summer_closure_weeks=(54,))
    with pytest.raises(ZoneInfoNotFoundError):
        DeliveryWindow(timezone="Europe/Nowhere")


def test_everything_closed_fails_loudly_instead_of_looping() -> None:
    window = DeliveryWindow(summer_closure_weeks=tuple(range(1, 54)))
    with pytest.raises(ValueError):
        next_allowed(oslo(2026, 3, 2, 10), window)


# --- next_allowed: the daily window ---------------------------------------------------------------------


def test_inside_window_is_unchanged() -> None:
    assert_same(next_allowed(oslo(2026, 3, 4, 11, 17), WINDOW), oslo(2026, 3, 4, 11, 17))


def test_before_nine_moves_to_nine_same_day() -> None:
    assert_same(next_allowed(oslo(2026, 3, 4, 7, 45), WINDOW), oslo(2026, 3, 4, 9))


def test_after_three_moves_to_next_day_nine() -> None:
    assert_same(next_allowed(oslo(2026, 3, 4, 15, 30), WINDOW), oslo(2026, 3, 5, 9))


def test_window_end_is_exclusive() -> None:
    assert_same(next_allowed(oslo(2026, 3, 4, 15), WINDOW), oslo(2026, 3, 5, 9))
    assert_same(next_allowed(oslo(2026, 3, 4, 14, 59, 59), WINDOW), oslo(2026, 3, 4, 14, 59, 59))
    assert_same(next_allowed(oslo(2026, 3, 4, 9), WINDOW), oslo(2026, 3, 4, 9))


def test_friday_afternoon_moves_to_monday() -> None:
    assert_same(next_allowed(oslo(2026, 3, 6, 16), WINDOW), oslo(2026, 3, 9, 9))


def test_seventeenth_of_may_moves_to_eighteenth() -> None:
    assert_same(next_allowed(oslo(2026, 5, 17, 10), WINDOW), oslo(2026, 5, 18, 9))


def test_fellesferie_moves_past_week_30() -> None:
    assert_same(next_allowed(oslo(2026, 7, 15, 10), WINDOW), oslo(2026, 7, 27, 9))
    # From the last allowed afternoon before the closure as well.
    assert_same(next_allowed(oslo(2026, 7, 10, 15, 1), WINDOW), oslo(2026, 7, 27, 9))


def test_easter_2026() -> None:
    # After the window on the Wednesday before: skjærtorsdag, langfredag, the weekend and 2. påskedag pass.
    assert_same(next_allowed(oslo(2026, 4, 1, 15, 5), WINDOW), oslo(2026, 4, 7, 9))
    assert_same(next_allowed(oslo(2026, 4, 2, 10), WINDOW), oslo(2026, 4, 7, 9))
    assert_same(next_allowed(oslo(2026, 4, 6, 12), WINDOW), oslo(2026, 4, 7, 9))


def test_julaften_and_nyttarsaften() -> None:
    assert_same(next_allowed(oslo(2026, 12, 23, 16), WINDOW), oslo(2026, 12, 28, 9))
    assert_same(next_allowed(oslo(2026, 12, 30, 15), WINDOW), oslo(2027, 1, 4, 9))


def test_moment_in_another_zone_is_converted() -> None:
    # 07:30 UTC on a winter Wednesday is 08:30 in Oslo: before the window.
    moment = datetime(2026, 3, 4, 7, 30, tzinfo=UTC)
    assert_same(next_allowed(moment, WINDOW), oslo(2026, 3, 4, 9))
    # 10:00 in New York is 16:00 in Oslo: after the window.
    new_york = datetime(2026, 3, 4, 10, tzinfo=ZoneInfo("America/New_York"))
    assert_same(next_allowed(new_york, WINDOW), oslo(2026, 3, 5, 9))
    fixed = datetime(2026, 3, 4, 12, tzinfo=timezone(timedelta(hours=1)))
    assert_same(next_allowed(fixed, WINDOW), oslo(2026, 3, 4, 12))


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError):
        next_allowed(datetime(2026, 3, 4, 10), WINDOW)


def test_custom_window() -> None:
    window = DeliveryWindow(start=time(12, 30), end=time(13, 30))
    assert_same(next_allowed(oslo(2026, 3, 4, 9), window), oslo(2026, 3, 4, 12, 30))
    assert_same(next_allowed(oslo(2026, 3, 4, 13, 30), window), oslo(2026, 3, 5, 12, 30))


# --- daylight saving ------------------------------------------------------------------------------------


def test_local_at_moves_a_wall_time_in_the_spring_gap_forward() -> None:
    moved = local_at(date(2026, 3, 29), time(2, 30), OSLO)
    assert moved.replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)
    assert moved.utcoffset() == timedelta(hours=2)
    assert moved.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_local_at_takes_the_first_of_an_ambiguous_autumn_time() -> None:
    first = local_at(date(2026, 10, 25), time(2, 30), OSLO)
    assert first.utcoffset() == timedelta(hours=2)
    assert first.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_local_at_accepts_a_zone_name() -> None:
    assert_same(local_at(date(2026, 6, 1), time(9), "Europe/Oslo"), oslo(2026, 6, 1, 9))


def test_nonexistent_moment_on_spring_sunday() -> None:
    # 02:30 on 2026-03-29 does not exist in Oslo; it is a Sunday, so the next moment is Monday 09:00 CEST.
    result = next_allowed(oslo(2026, 3, 29, 2, 30), WINDOW)
    assert_same(result, oslo(2026, 3, 30, 9))
    assert result.astimezone(UTC) == datetime(2026, 3, 30, 7, tzinfo=UTC)


def test_window_start_inside_a_gap_on_a_working_day() -> None:
    # Oslo changes clocks on Sundays, which are never working days; Cairo springs forward at midnight on a
    # Friday (24 April 2026, 00:00 -> 01:00), so a 00:30 window start falls in the gap on a working day.
    cairo = ZoneInfo("Africa/Cairo")
    if datetime(2026, 4, 24, 2, tzinfo=cairo).utcoffset() != timedelta(hours=3):
        pytest.skip("this tzdata has no 2026 daylight saving for Egypt")
    window = DeliveryWindow(timezone="Africa/Cairo", start=time(0, 30), end=time(4))
    result = next_allowed(datetime(2026, 4, 23, 23, tzinfo=cairo), window)
    assert result.astimezone(UTC) == datetime(2026, 4, 23, 22, 30, tzinfo=UTC)
    assert result.replace(tzinfo=None) == datetime(2026, 4, 24, 1, 30)
    # The start moved by the whole gap, so 01:05 is still before it; 01:45 is inside and stays put.
    assert next_allowed(datetime(2026, 4, 23, 22, 5, tzinfo=UTC), window) == result
    inside = datetime(2026, 4, 23, 22, 45, tzinfo=UTC)
    assert next_allowed(inside, window) == inside


@pytest.mark.parametrize("day", [26, 27, 30, 31])
def test_week_around_spring_change_keeps_nine_oclock(day: int) -> None:
    # Each working day of the week before and after the change opens at 09:00 local, in the right offset.
    result = next_allowed(oslo(2026, 3, day, 6), WINDOW)
    assert result.replace(tzinfo=None) == datetime(2026, 3, day, 9)
    expected_offset = timedelta(hours=1 if day < 29 else 2)
    assert result.utcoffset() == expected_offset


@pytest.mark.parametrize("day", [22, 23, 26, 27])
def test_week_around_autumn_change_keeps_nine_oclock(day: int) -> None:
    result = next_allowed(oslo(2026, 10, day, 6), WINDOW)
    assert result.replace(tzinfo=None) == datetime(2026, 10, day, 9)
    assert result.utcoffset() == timedelta(hours=2 if day < 25 else 1)


def test_repeated_hour_in_autumn_both_folds() -> None:
    # Both 02:30s on Sunday 2026-10-25 exist; each goes to Monday 09:00 CET, once.
    first = next_allowed(oslo(2026, 10, 25, 2, 30, fold=0), WINDOW)
    second = next_allowed(oslo(2026, 10, 25, 2, 30, fold=1), WINDOW)
    assert_same(first, oslo(2026, 10, 26, 9))
    assert first == second


def test_daily_delivery_over_both_changes_neither_skips_nor_doubles() -> None:
    # Simulate a scheduler that, after each delivery, asks for the next allowed moment a minute after the
    # window closes. Over the weeks around both changes every working day gets exactly one 09:00.
    for first_day, last_day in (
        (date(2026, 3, 23), date(2026, 4, 3)),
        (date(2026, 10, 19), date(2026, 10, 30)),
    ):
        deliveries: list[datetime] = []
        cursor = oslo(first_day.year, first_day.month, first_day.day, 0)
        while True:
            moment = next_allowed(cursor, WINDOW)
            if moment.date() > last_day:
                break
            deliveries.append(moment)
            cursor = local_at(moment.date(), time(15, 1), OSLO)
        expected_days = [
            first_day + timedelta(days=n)
            for n in range((last_day - first_day).days + 1)
            if is_working_day(first_day + timedelta(days=n), WINDOW)
        ]
        assert [d.date() for d in deliveries] == expected_days
        assert all(d.replace(tzinfo=None).time() == time(9) for d in deliveries)
        assert len({d.astimezone(UTC) for d in deliveries}) == len(deliveries)


def test_hourly_scan_through_autumn_night_is_monotone() -> None:
    # Step through the doubled hour in UTC; next_allowed must never go backwards in time.
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)
    results = [next_allowed(start + timedelta(minutes=15 * n), WINDOW) for n in range(24)]
    assert all(r.astimezone(UTC) >= (start + timedelta(minutes=15 * n)) for n, r in enumerate(results))
    assert all(r == oslo(2026, 10, 26, 9) for r in results)


def test_is_allowed() -> None:
    assert is_allowed(oslo(2026, 3, 4, 10), WINDOW)
    assert not is_allowed(oslo(2026, 3, 4, 8, 59), WINDOW)
    assert not is_allowed(oslo(2026, 5, 17, 10), WINDOW)
    assert not is_allowed(oslo(2026, 7, 15, 10), WINDOW)


# --- the weekly summary: Monday 08:00, the next working day after a holiday (bot.course.unitcal) ---------


def next_weekday_at(now: datetime, weekday: int, at: time, window: DeliveryWindow) -> datetime:
    return next_weekly(now, window, lambda monday: summary_occurrence_for_week(monday, weekday, at, window))


def test_weekly_summary_next_monday_eight() -> None:
    assert_same(next_weekday_at(oslo(2026, 3, 4, 12), MONDAY, time(8), WINDOW), oslo(2026, 3, 9, 8))


def test_weekly_summary_is_strictly_after_now() -> None:
    assert_same(next_weekday_at(oslo(2026, 3, 9, 8), MONDAY, time(8), WINDOW), oslo(2026, 3, 16, 8))
    assert_same(next_weekday_at(oslo(2026, 3, 9, 7, 59), MONDAY, time(8), WINDOW), oslo(2026, 3, 9, 8))


def test_weekly_summary_after_holiday_goes_next_working_day_keeping_eight() -> None:
    # Monday 6 April 2026 is 2. påskedag: the summary goes Tuesday 7 April at 08:00, before the window.
    assert_same(next_weekday_at(oslo(2026, 4, 1, 12), MONDAY, time(8), WINDOW), oslo(2026, 4, 7, 8))
    # A scheduler recomputing on the Tuesday morning itself does not skip that week.
    assert_same(next_weekday_at(oslo(2026, 4, 7, 7), MONDAY, time(8), WINDOW), oslo(2026, 4, 7, 8))
    # ...and once it has gone, the next one is the following Monday.
    assert_same(next_weekday_at(oslo(2026, 4, 7, 8), MONDAY, time(8), WINDOW), oslo(2026, 4, 13, 8))


def test_weekly_summary_over_fellesferie_is_sent_once() -> None:
    # Weeks 29 and 30 collapse into one summary on Monday of week 31.
    first = next_weekday_at(oslo(2026, 7, 10, 12), MONDAY, time(8), WINDOW)
    assert_same(first, oslo(2026, 7, 27, 8))
    assert_same(next_weekday_at(first, MONDAY, time(8), WINDOW), oslo(2026, 8, 3, 8))


def test_weekly_summary_across_dst_changes_keeps_wall_time() -> None:
    spring = next_weekday_at(oslo(2026, 3, 27, 12), MONDAY, time(8), WINDOW)
    assert_same(spring, oslo(2026, 3, 30, 8))
    assert spring.astimezone(UTC) == datetime(2026, 3, 30, 6, tzinfo=UTC)
    autumn = next_weekday_at(oslo(2026, 10, 23, 12), MONDAY, time(8), WINDOW)
    assert_same(autumn, oslo(2026, 10, 26, 8))
    assert autumn.astimezone(UTC) == datetime(2026, 10, 26, 7, tzinfo=UTC)


def test_weekly_series_over_a_year_has_one_per_week_except_closures() -> None:
    sent: list[datetime] = []
    cursor = oslo(2026, 1, 1, 0)
    while cursor.year == 2026:
        cursor = next_weekday_at(cursor, MONDAY, time(8), WINDOW)
        if cursor.year == 2026:
            sent.append(cursor)
    assert len({s.isocalendar().week for s in sent}) == len(sent)  # never two in a week
    assert all(s.replace(tzinfo=None).time() == time(8) for s in sent)
    assert all(is_working_day(s.date(), WINDOW) for s in sent)
    weeks = {s.isocalendar().week for s in sent}
    assert 29 not in weeks and 30 not in weeks
    assert oslo(2026, 4, 7, 8) in sent and oslo(2026, 5, 26, 8) in sent  # after 2. påskedag, 2. pinsedag


def test_other_weekday() -> None:
    # Thursday check-in at 10:00 in the week of skjærtorsdag goes on Tuesday 7 April.
    assert_same(next_weekday_at(oslo(2026, 3, 31, 12), 3, time(10), WINDOW), oslo(2026, 4, 7, 10))
