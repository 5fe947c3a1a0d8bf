"""One parser for every date and time people type, in bokmål, nynorsk and English.

Understood (case-insensitive, words of all three languages in any language setting, since people mix):

* days: ``i dag``, ``i morgen`` / ``i morgon`` / ``tomorrow``, ``i overmorgen``; a weekday (``fredag``,
  ``på fredag``, ``laurdag``, ``friday``: its next occurrence, today counts); ``neste fredag`` (the Friday of
  next week); ``neste uke`` / ``neste veke`` / ``next week`` and ``denne uka`` (the Friday of that week, the
  last working day); ``om 3 dager``, ``om ei veke``, ``in 2 weeks``; ``uke 50`` (its Friday); ``4.12.``,
  ``4.12``, ``4/12``, ``4.12.2026``, ``4.12.26``, ``2026-12-04``; ``4. desember``, ``4 des 2026``,
  ``December 4th``; a weekday with a date (``fredag 4.12.``) is checked against it.
* times: ``kl 9``, ``kl. 13.30``, ``klokka 14``, ``13:30``, ``13.30``, ``1330`` (after ``kl``), ``2pm``,
  ``at 9:15``.
* both: ``24.12. kl 14``, ``i morgen 12:00``, ``fredag 13.30``, ``kl 14 fredag``.

A day without a year is its *nearest* occurrence (within half a year either way), never silently moved
to next year: on 29 November "3.1." is 3 January next year, but "1.11." is 1 November this year, which has
passed, so :func:`check_future` questions it and suggests the year to write. Errors are specific
(:class:`DateError`, prompts ``dates.*``): «31.02.» is not a date, «25.00» not a time, «over jul» not
understood (with examples).

Why a small grammar and not a library: dateparser 1.2 (the well-kept candidate, with ``nb`` and ``nn``
data) was tried offline with these inputs on 29.11.2026. It read "4.12." as 04:12 today, "24.12. kl 14" as
24.12.2114, "kl 9" as 9 November, knew "i morgen" only in bokmål and "i morgon" only in nynorsk, took
"neste uke" as "in seven days", and returns ``None`` for "31.02." without saying why. Its locale data and
import time (about a second) are large for what we need, and the rules above – nearest occurrence, a
specific error per mistake, the Norwegian dotted forms – would have to be written around it anyway. The
grammar below is about 250 lines, pure, and takes ``today``/``now`` as a parameter (time is injected
everywhere in Partsbot; the zone is the unit's, Europe/Oslo by default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.chat.context import UserError
from bot.dates.calendar import local_at

# How far from today a day without a year may lie before the other year is meant (either way).
HALF_YEAR = timedelta(days=183)


class DateError(UserError):
    """A date or time a person typed that is not one (prompts ``dates.*``; ``text`` is what they typed)."""


@dataclass(frozen=True)
class When:
    """What a person typed: a day, a time of day, or both. ``year_given`` is False for "4.12." and the
    relative words, which :func:`check_future` uses to suggest the year when the day has passed."""

    day: date | None
    clock: time | None
    text: str
    year_given: bool = False


# Words ------------------------------------------------------------------------------------------------

_WEEKDAYS = {
    "mandag": 0, "måndag": 0, "monday": 0, "man": 0, "mon": 0, "tirsdag": 1, "tysdag": 1, "tuesday": 1,
    "tir": 1, "tys": 1, "tue": 1, "onsdag": 2, "wednesday": 2, "ons": 2, "wed": 2, "torsdag": 3,
    "thursday": 3, "tor": 3, "thu": 3, "fredag": 4, "friday": 4, "fre": 4, "fri": 4, "lørdag": 5,
    "laurdag": 5, "saturday": 5, "lør": 5, "lau": 5, "sat": 5, "søndag": 6, "sundag": 6, "sunday": 6,
    "søn": 6, "sun": 6,
}  # fmt: skip
_MONTHS = {
    "januar": 1, "january": 1, "jan": 1, "februar": 2, "february": 2, "feb": 2, "mars": 3, "march": 3,
    "mar": 3, "april": 4, "apr": 4, "mai": 5, "may": 5, "juni": 6, "june": 6, "jun": 6, "juli": 7,
    "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10,
    "october": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11, "desember": 12, "december": 12,
    "des": 12, "dec": 12,
}  # fmt: skip
# Fixed day words, longest first so "i overmorgen" is not read as "i" + something.
_DAY_WORDS: dict[tuple[str, ...], int] = {
    ("day", "after", "tomorrow"): 2, ("i", "overmorgen"): 2, ("i", "overmorgon"): 2, ("overmorgen",): 2,
    ("overmorgon",): 2, ("i", "dag"): 0, ("idag",): 0, ("today",): 0, ("i", "morgen"): 1,
    ("i", "morgon"): 1, ("imorgen",): 1, ("imorgon",): 1, ("tomorrow",): 1,
}  # fmt: skip
_WEEK_WORDS = {"uke", "uka", "uken", "veke", "veka", "week"}
_NEXT = {"neste", "kommende", "next"}
_THIS = {"denne", "this"}
_DAY_UNITS = {"dag": 1, "dager": 1, "dagar": 1, "døgn": 1, "day": 1, "days": 1}
_WEEK_UNITS = {"uke": 7, "uker": 7, "veke": 7, "veker": 7, "week": 7, "weeks": 7}
_NUMBER_WORDS = {"en": 1, "ei": 1, "ein": 1, "eitt": 1, "ett": 1, "a": 1, "one": 1, "to": 2, "two": 2,
                 "tre": 3, "three": 3, "fire": 4, "four": 4}  # fmt: skip
_FILLERS = {"på", "on", "den", "the", "innen", "innan", "by", "til", "og", "med", "until", "through"}
_CLOCK_WORDS = {"kl", "kl.", "klokka", "klokken", "klokka.", "at", "@"}

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{2}|\d{4})?)?(\.?)$")
_ORDINAL = re.compile(r"^(\d{1,2})(?:\.|st|nd|rd|th)?,?$")
_YEAR = re.compile(r"^(\d{4})\.?$")
_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(am|pm)?$")
_CLOCK_COMPACT = re.compile(r"^(\d{2})(\d{2})$")
# Something that is certainly meant as a date or a time, so a failure to read it is an error, not "no date".
_LOOKS_LIKE = re.compile(r"^\d{1,4}([./:-]\d{1,2})+[./]?\d*$")


def _tokens(text: str) -> list[str]:
    return [w.strip(",") for w in text.lower().split() if w.strip(",")]


# Days -----------------------------------------------------------------------------------------------------


def _friday_of(day: date) -> date:
    return day + timedelta(days=4 - day.weekday())


def _nearest(today: date, month: int, day: int, text: str) -> date:
    """The occurrence of ``day.month.`` nearest to ``today`` (this year, or the next/previous within half a
    year); «31.02.» is not a date in any year."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise DateError("dates.not_a_date", text=text)
    return min(candidates, key=lambda d: (abs(d - today), d < today))


def _full(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError("dates.not_a_date", text=text) from None


def _read_day(words: list[str], today: date, text: str) -> tuple[date, int, bool] | None:
    """The longest day phrase at the start of ``words``: (day, words used, year given), or None."""
    n = 0
    while n < len(words) - 1 and words[n] in _FILLERS:
        n += 1
    w = words[n:]
    if not w:
        return None
    for phrase, offset in _DAY_WORDS.items():
        if tuple(w[: len(phrase)]) == phrase:
            return today + timedelta(days=offset), n + len(phrase), False
    head = w[0]
    # "neste fredag", "neste uke", "denne uka"
    if head in _NEXT | _THIS and len(w) > 1:
        week_start = today - timedelta(days=today.weekday()) + timedelta(weeks=1 if head in _NEXT else 0)
        if w[1] in _WEEKDAYS:
            return week_start + timedelta(days=_WEEKDAYS[w[1]]), n + 2, False
        if w[1] in _WEEK_WORDS:
            return _friday_of(week_start), n + 2, False
    # "om 3 dager", "om ei veke", "in 2 weeks"
    if head in ("om", "in") and len(w) > 2:
        count = int(w[1]) if w[1].isdigit() else _NUMBER_WORDS.get(w[1])
        unit = _DAY_UNITS.get(w[2]) or _WEEK_UNITS.get(w[2])
        if count is not None and unit is not None and count <= 400:
            return today + timedelta(days=count * unit), n + 3, False
    # "uke 50", "veke 50", "week 50": its Friday, this year or the next
    if head in _WEEK_WORDS and len(w) > 1 and w[1].isdigit():
        number = int(w[1])
        for year in (today.year, today.year + 1):
            try:
                friday = date.fromisocalendar(year, number, 5)
            except ValueError:
                raise DateError("dates.not_a_date", text=" ".join(w[:2])) from None
            if friday >= today - timedelta(days=6) or year == today.year + 1:
                return friday, n + 2, False
    # A weekday, maybe with the date it names: "fredag", "fredag 4.12.", "friday, December 4"
    if head in _WEEKDAYS:
        named = _WEEKDAYS[head]
        if len(w) > 2 and w[1] in _NEXT | _THIS and w[2] in _WEEK_WORDS:  # "mandag neste uke"
            week_start = today - timedelta(days=today.weekday()) + timedelta(weeks=1 if w[1] in _NEXT else 0)
            return week_start + timedelta(days=named), n + 3, False
        rest = _read_day(w[1:], today, text) if len(w) > 1 and w[1] not in _WEEKDAYS else None
        if rest is not None:
            day, used, year_given = rest
            if day.weekday() != named:
                shown = " ".join(w[: 1 + used])
                raise DateError("dates.wrong_weekday", text=shown, day=f"{day.day}.{day.month}.{day.year}")
            return day, n + 1 + used, year_given
        return today + timedelta(days=(named - today.weekday()) % 7), n + 1, False
    if m := _ISO.match(head):
        return _full(int(m[1]), int(m[2]), int(m[3]), head), n + 1, True
    if m := _DOTTED.match(head):
        day_n, month_n = int(m[1]), int(m[2])
        if m[3]:
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return _full(year, month_n, day_n, head), n + 1, True
        if not m[4] and ":" not in head and not 1 <= month_n <= 12 and _clock_of(head) is not None:
            return None  # "13.30": a time, not the 13th of a 30th month
        if not 1 <= month_n <= 12 or not 1 <= day_n <= 31:
            raise DateError("dates.not_a_date", text=head)
        if len(w) > 1 and (y := _YEAR.match(w[1])):
            return _full(int(y[1]), month_n, day_n, f"{head} {w[1]}"), n + 2, True
        return _nearest(today, month_n, day_n, head), n + 1, False
    # "4. desember [2026]", "4 des", "December 4th[, 2026]"
    day_word, month_word = (w[0], w[1]) if len(w) > 1 and w[1].rstrip(".") in _MONTHS else (None, None)
    if day_word is None and len(w) > 1 and head.rstrip(".") in _MONTHS:
        day_word, month_word = w[1], head
    if day_word is not None and month_word is not None and (m := _ORDINAL.match(day_word)):
        month_n, day_n = _MONTHS[month_word.rstrip(".")], int(m[1])
        shown = " ".join(w[:2])
        if len(w) > 2 and (y := _YEAR.match(w[2])):
            return _full(int(y[1]), month_n, day_n, f"{shown} {w[2]}"), n + 3, True
        return _nearest(today, month_n, day_n, shown), n + 2, False
    return None


# Times ----------------------------------------------------------------------------------------------------


def _clock_of(word: str, after_kl: bool = False) -> time | None:
    """A time of day in one word, None if it is not one; raises when it is one but impossible (25.00)."""
    m = _CLOCK.match(word)
    if m is None and after_kl:
        m = _CLOCK_COMPACT.match(word)
        if m is not None:
            hour, minute, suffix = int(m[1]), int(m[2]), None
        else:
            return None
    elif m is None:
        return None
    else:
        hour, minute, suffix = int(m[1]), int(m[2] or 0), m[3]
        if m[2] is None and suffix is None and not after_kl:
            return None  # a bare "9" is a number, not a time
    if suffix:
        if not 1 <= hour <= 12:
            raise DateError("dates.not_a_time", text=word)
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        raise DateError("dates.not_a_time", text=word)
    return time(hour, minute)


def _read_clock(words: list[str], text: str) -> tuple[time, int] | None:
    n = 0
    while n < len(words) - 1 and words[n] in ("og", "and", ","):
        n += 1
    if n >= len(words):
        return None
    head = words[n]
    glued = re.match(r"^(kl\.?|klokka)(\d.*)$", head)  # "kl9", "kl.14"
    if glued:
        at = _clock_of(glued[2], after_kl=True)
        if at is None:
            raise DateError("dates.not_a_time", text=head)
        return at, n + 1
    if head in _CLOCK_WORDS:
        following = words[n + 1] if n + 1 < len(words) else ""
        try:
            at = _clock_of(following, after_kl=True) if following else None
        except DateError:
            raise DateError("dates.not_a_time", text=f"{head} {following}") from None
        if at is None:
            if head in ("at", "@"):
                return None  # English "at the door": not a time
            raise DateError("dates.not_a_time", text=f"{head} {following}".strip())
        return at, n + 2
    at = _clock_of(head)
    return (at, n + 1) if at is not None else None


# The API ----------------------------------------------------------------------------------------------------


def take_when(text: str, today: date) -> tuple[When, str] | None:
    """A date and/or time at the start of ``text`` and the rest of the text after it
    ("Per fredag Henge opp tavla" → no; "fredag Henge opp tavla" → fredag, "Henge opp tavla").

    None when the text does not start with a date or time; :class:`DateError` when it starts with one that
    is wrong ("31.02. Vise vikarene tavla").
    """
    original = text.split()
    words = _tokens(text)
    if not words:
        return None
    day: date | None = None
    clock: time | None = None
    used = 0
    year_given = False
    probe = " ".join(original[:3])
    got_day = _read_day(words, today, probe)
    if got_day is not None:
        day, used, year_given = got_day
        got_clock = _read_clock(words[used:], probe)
        if got_clock is not None:
            clock, more = got_clock
            used += more
    else:
        got_clock = _read_clock(words, probe)
        if got_clock is None:
            if _LOOKS_LIKE.match(words[0]):
                raise DateError("dates.not_a_date", text=original[0])
            return None
        clock, used = got_clock
        got_day = _read_day(words[used:], today, probe)
        if got_day is not None:
            day, more, year_given = got_day
            used += more
    consumed = " ".join(original[:used])
    return When(day, clock, consumed, year_given), " ".join(original[used:])


def parse_when(text: str, today: date) -> When:
    """All of ``text`` as a day and/or time; :class:`DateError` names what is wrong with it."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise DateError("dates.missing")
    got = take_when(cleaned, today)
    if got is None or got[1]:
        raise DateError("dates.not_understood", text=cleaned[:40])
    return got[0]


def parse_day(text: str, today: date) -> date:
    """A calendar day and nothing else."""
    when = parse_when(text, today)
    if when.day is None or when.clock is not None:
        raise DateError("dates.not_understood", text=" ".join(text.split())[:40])
    return when.day


def parse_clock(text: str) -> time:
    """A time of day and nothing else: "kl 9", "13.30", "09:00", "1330", "2pm"."""
    cleaned = " ".join(text.split()).lower()
    if not cleaned:
        raise DateError("dates.missing")
    words = cleaned.split()
    if len(words) == 1 and words[0] not in _CLOCK_WORDS:
        words = ["kl", words[0]]  # a lone "9" in a time field is nine o'clock
    try:
        got = _read_clock(words, cleaned)
    except DateError:
        got = None
    if got is None or got[1] != len(words):
        raise DateError("dates.not_a_time", text=cleaned[:20])
    return got[0]


def moment_of(when: When, now: datetime, zone: ZoneInfo, *, end_of_day: bool = True) -> datetime:
    """The instant ``when`` names. A day alone means through that day (midnight after it) when
    ``end_of_day``, else its start; a time alone means its next occurrence from ``now``."""
    today = now.astimezone(zone).date()
    if when.day is not None and when.clock is not None:
        return local_at(when.day, when.clock, zone)
    if when.day is not None:
        return local_at(when.day + timedelta(days=1) if end_of_day else when.day, time(0, 0), zone)
    assert when.clock is not None
    moment = local_at(today, when.clock, zone)
    return moment if moment > now else local_at(today + timedelta(days=1), when.clock, zone)


def check_future(when: When, now: datetime, zone: ZoneInfo, *, key: str = "dates.past") -> None:
    """Question a day that has passed: never move it silently. Without a year, suggest the next one."""
    today = now.astimezone(zone).date()
    passed = (
        when.day < today if when.day is not None and when.clock is None else moment_of(when, now, zone) <= now
    )
    if not passed:
        return
    day = when.day or today
    if not when.year_given and when.day is not None:
        try:
            suggestion = day.replace(year=day.year + 1)
        except ValueError:  # 29.2.
            suggestion = day + timedelta(days=365)
        raise DateError(
            key + "_suggest",
            text=when.text[:40],
            day=f"{day.day}.{day.month}.{day.year}",
            next=f"{suggestion.day}.{suggestion.month}.{suggestion.year}",
        )
    raise DateError(key, text=when.text[:40], day=f"{day.day}.{day.month}.{day.year}")


def parse_deadline(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """A deadline from what a person typed, in the future: a day alone is through that day."""
    when = parse_when(text, now.astimezone(zone).date())
    check_future(when, now, zone)
    return moment_of(when, now, zone)
