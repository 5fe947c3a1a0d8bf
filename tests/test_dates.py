"""The one date parser: every form people type in nb, nn and en, the specific errors, and the rule that a
day without a year that has passed is questioned, never moved a year."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.dates.parse import DateError, parse_clock, parse_deadline, parse_when, take_when
from bot.i18n import t

OSLO = ZoneInfo("Europe/Oslo")
TODAY = date(2026, 11, 29)  # a Sunday, the day of the UX review
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)  # 10:00 in Oslo


@pytest.mark.parametrize(
    ("text", "day", "at"),
    [
        ("fredag", date(2026, 12, 4), None),
        ("på fredag", date(2026, 12, 4), None),
        ("Friday", date(2026, 12, 4), None),
        ("laurdag", date(2026, 12, 5), None),
        ("tysdag", date(2026, 12, 1), None),
        ("søndag", TODAY, None),  # today counts
        ("i dag", TODAY, None),
        ("i morgen", date(2026, 11, 30), None),
        ("i morgon", date(2026, 11, 30), None),
        ("imorgen", date(2026, 11, 30), None),
        ("tomorrow", date(2026, 11, 30), None),
        ("i overmorgen", date(2026, 12, 1), None),
        ("neste uke", date(2026, 12, 4), None),  # the Friday of next week
        ("neste veke", date(2026, 12, 4), None),
        ("next week", date(2026, 12, 4), None),
        ("neste fredag", date(2026, 12, 4), None),
        ("mandag neste uke", date(2026, 11, 30), None),
        ("om 2 uker", date(2026, 12, 13), None),
        ("om ei veke", date(2026, 12, 6), None),
        ("in 3 days", date(2026, 12, 2), None),
        ("uke 50", date(2026, 12, 11), None),
        ("4.12.", date(2026, 12, 4), None),
        ("4.12", date(2026, 12, 4), None),
        ("4/12", date(2026, 12, 4), None),
        ("04.12.2026", date(2026, 12, 4), None),
        ("4.12.26", date(2026, 12, 4), None),
        ("2026-12-04", date(2026, 12, 4), None),
        ("4. desember", date(2026, 12, 4), None),
        ("4 des", date(2026, 12, 4), None),
        ("1. desember", date(2026, 12, 1), None),
        ("4. desember 2027", date(2027, 12, 4), None),
        ("December 4th", date(2026, 12, 4), None),
        ("fredag 4.12.", date(2026, 12, 4), None),
        ("fredag den 4.12.", date(2026, 12, 4), None),
        ("3.1.", date(2027, 1, 3), None),  # the nearest 3 January is next year's
        ("24.12. kl 14", date(2026, 12, 24), time(14, 0)),
        ("24.12. kl. 14.00", date(2026, 12, 24), time(14, 0)),
        ("i morgen 12:00", date(2026, 11, 30), time(12, 0)),
        ("fredag 13.30", date(2026, 12, 4), time(13, 30)),
        ("kl 14 fredag", date(2026, 12, 4), time(14, 0)),
        ("kl 9", None, time(9, 0)),
        ("kl.9", None, time(9, 0)),
        ("klokka 9", None, time(9, 0)),
        ("13.30", None, time(13, 30)),
        ("13:30", None, time(13, 30)),
        ("2pm", None, time(14, 0)),
    ],
)
def test_what_people_type(text: str, day: date | None, at: time | None) -> None:
    when = parse_when(text, TODAY)
    assert (when.day, when.clock) == (day, at)


@pytest.mark.parametrize(
    ("text", "key", "shown"),
    [
        ("31.02.", "dates.not_a_date", "31.02."),
        ("31.02.2027", "dates.not_a_date", "31.02.2027"),
        ("4.13.", "dates.not_a_date", "4.13."),
        ("30. februar", "dates.not_a_date", "30. februar"),
        ("25.00", "dates.not_a_time", "25.00"),
        ("kl 25", "dates.not_a_time", "kl 25"),
        ("torsdag 4.12.", "dates.wrong_weekday", "torsdag 4.12."),
        ("over jul", "dates.not_understood", "over jul"),
        ("snart", "dates.not_understood", "snart"),
        ("", "dates.missing", None),
    ],
)
def test_mistakes_are_named(text: str, key: str, shown: str | None) -> None:
    with pytest.raises(DateError) as err:
        parse_when(text, TODAY)
    assert err.value.key == key
    assert err.value.values.get("text") == shown


def test_the_errors_read_well_in_every_language() -> None:
    assert t("nb", "dates.not_a_date", text="31.02.") == (
        "«31.02.» er ikke en dato. Skriv for eksempel «fredag», «4.12.» eller «4. desember»."
    )
    assert t("nn", "dates.not_a_date", text="31.02.").startswith("«31.02.» er ikkje ein dato.")
    assert t("en", "dates.not_a_date", text="31.02.").startswith("“31.02.” is not a date.")


def test_a_passed_day_is_questioned_never_moved_a_year() -> None:
    with pytest.raises(DateError) as err:
        parse_deadline("1.11.", NOW, OSLO)
    assert err.value.key == "dates.past_suggest"
    assert err.value.values == {"text": "1.11.", "day": "1.11.2026", "next": "1.11.2027"}
    with pytest.raises(DateError) as err:
        parse_deadline("1.11.2026", NOW, OSLO)
    assert err.value.key == "dates.past"
    with pytest.raises(DateError):
        parse_deadline("i dag kl 8", NOW, OSLO)  # 08:00 today has passed at 10:00
    # Written with the year, the next one is taken as meant.
    assert parse_deadline("1.11.2027", NOW, OSLO) == datetime(2027, 11, 1, 23, 0, tzinfo=UTC)


def test_deadlines_in_oslo_time() -> None:
    # A day alone is through that day: midnight after it, in Oslo.
    assert parse_deadline("fredag", NOW, OSLO) == datetime(2026, 12, 4, 23, 0, tzinfo=UTC)
    assert parse_deadline("24.12. kl 14", NOW, OSLO) == datetime(2026, 12, 24, 13, 0, tzinfo=UTC)
    # A time alone is its next occurrence: 09:00 has passed today, so tomorrow.
    assert parse_deadline("kl 9", NOW, OSLO) == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert parse_deadline("kl 14", NOW, OSLO) == datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
    # Summer time: 1 July 12:00 in Oslo is 10:00 UTC.
    assert parse_deadline("1.7.2027 kl 12", NOW, OSLO) == datetime(2027, 7, 1, 10, 0, tzinfo=UTC)


def test_a_date_at_the_start_of_a_text_and_the_rest() -> None:
    got = take_when("fredag Henge opp tavla", TODAY)
    assert got is not None and got[0].day == date(2026, 12, 4) and got[1] == "Henge opp tavla"
    got = take_when("1. desember Vise vikarene tavla", TODAY)
    assert got is not None and got[0].day == date(2026, 12, 1) and got[1] == "Vise vikarene tavla"
    got = take_when("neste uke Lage bilder av alle voksne", TODAY)
    assert got is not None and got[0].day == date(2026, 12, 4) and got[1] == "Lage bilder av alle voksne"
    assert take_when("Henge opp tavla", TODAY) is None
    assert take_when("at the door", TODAY) is None
    with pytest.raises(DateError) as err:
        take_when("31.02. Vise vikarene tavla", TODAY)
    assert err.value.values["text"] == "31.02."


def test_clock_fields() -> None:
    assert parse_clock("9") == time(9, 0)
    assert parse_clock("kl. 13.30") == time(13, 30)
    assert parse_clock("0900") == time(9, 0)
    assert parse_clock("09:00") == time(9, 0)
    with pytest.raises(DateError) as err:
        parse_clock("24:00")
    assert err.value.values["text"] == "24:00"
