"""A whole course run through the console, from enrolment to the evaluation after module 6, on a simulated
clock: every nudge of the plan goes exactly once, on a working day inside the window, in time order."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC

from sqlalchemy import func, select

from bot.course.models import DueNudge, SendLedger
from bot.dates.calendar import DeliveryWindow, is_allowed
from tests.console_driver import ConsoleDriver
from tests.course.course_helpers import keys, local, oslo, team, walk

WINDOW = DeliveryWindow()
# Five people answer the evaluations: the minimum group size for showing results.
ANSWERING = ("Kari", "Ola", "Siri", "Per", "Aisha")


async def answer_evaluation(console: ConsoleDriver, name: str, scores: list[int]) -> str:
    opened = await console.as_(name, "/parts evaluering")
    assert "== Evaluering ==" in opened, opened
    return await console.type(*(str(s) for s in scores), "")


async def test_whole_course_from_enrolment_to_evaluation(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))  # Monday, a week before module 1
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await team(console)
    out = await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    assert "Solsikken barnehage er meldt på kurset." in out
    assert "Kari har meldt Solsikken barnehage på «Kurs i rolleforståelse og partssamarbeid»." in out
    assert "→ *Modul 1: digital samling* – mandag 11. januar kl. 09.00" in out
    assert "· *Modul 6: digital erfaringsutveksling* – mandag 26. april kl. 09.00" in out
    assert "0 av 6 moduler gjennomført. Neste melding fra meg: torsdag 7. januar kl. 10.00." in out

    # Up to the baseline evaluation (Friday before module 1), then five people answer it.
    sent = await walk(bot, clock, oslo(2027, 1, 8, 12, 30))
    assert keys(sent)[:3] == ["run:1:prepare:m1", "checkin:1:2027-W01", "run:1:baseline:m1"]
    console.take()
    for name, scores in zip(
        ANSWERING, ([2, 2, 2, 3], [3, 2, 1, 3], [2, 3, 2, 2], [3, 3, 2, 3], [2, 2, 3, 3]), strict=True
    ):
        out = await answer_evaluation(console, name, scores)
        assert "Takk! Svaret ditt er lagret uten navn." in out
    out = await console.as_("Kari", "/parts evaluering")
    assert "Du har allerede svart på denne evalueringen" in out

    # The rest of the course, to the day after module 6.
    sent += await walk(bot, clock, oslo(2027, 4, 27, 12))
    assert "run:1:evaluation:m6" in keys(sent)
    console.take()
    for name, scores in zip(
        ANSWERING,
        ([4, 4, 3, 4, 4], [4, 3, 3, 4, 5], [3, 4, 4, 3, 4], [4, 4, 4, 4, 4], [5, 4, 3, 4, 3]),
        strict=True,
    ):
        await answer_evaluation(console, name, scores)
    # The evaluation closes after two weeks; the next weekly summary (17 May is a holiday: Tuesday 18 May)
    # shows before and after.
    sent += await walk(bot, clock, oslo(2027, 5, 18, 12))
    sent_keys = keys(sent)

    # Every job exactly once, and every planned nudge sent.
    assert [k for k, n in Counter(sent_keys).items() if n > 1] == []
    nudges = [k for k in sent_keys if k.startswith("run:")]
    expected = (
        [f"run:1:prepare:m{n}" for n in range(1, 7)]
        + ["run:1:trio-plan:m2", "run:1:trio-plan:m4", "run:1:baseline:m1", "run:1:evaluation:m6"]
        + [f"run:1:tool:m{n}" for n in (1, 3, 5)]
        + [f"run:1:in-brief:m{n}" for n in (1, 3, 5)]
        + [f"run:1:reflect:m{n}" for n in range(1, 7)]
        + [f"run:1:reflection-digest:m{n}" for n in range(2, 7)]
        + ["run:1:reflection-digest-last:m6", "run:1:exchange-page:m6"]
        + ["run:1:shared-results:m6", "run:1:shared-results-after:m6"]
        + [f"run:1:module-evaluation:m{n}" for n in range(1, 6)]
        + [f"run:1:exercise:m{n}:w{w}" for n in range(1, 6) for w in (1, 2)]
    )
    assert sorted(nudges) == sorted(expected)
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(DueNudge).where(DueNudge.status == "pending")) == 0
        assert s.scalar(select(func.count()).select_from(SendLedger)) == len(sent_keys)

    # Nudges only on working days inside 09:00-15:00 Oslo; weekly summaries every Monday 08:00.
    for when, key in sent:
        if key.startswith(("run:", "checkin")):
            assert is_allowed(when, WINDOW), (key, local(when))
    summaries = [local(when) for when, key in sent if key.startswith("summary:")]
    assert summaries[0] == "2027-01-11 08:00 +0100"
    # 2. påskedag (29 March 2027) and 17 May move that week's summary to Tuesday.
    assert "2027-03-30 08:00 +0200" in summaries
    assert "2027-05-18 08:00 +0200" in summaries
    assert all(s.endswith("08:00 +0100") or s.endswith("08:00 +0200") for s in summaries)
    assert len(summaries) == 19  # 11 January to 18 May

    # A reminder before each module comes two working days before it, in order.
    when_of = {key: when for when, key in sent}
    assert local(when_of["run:1:prepare:m2"]) == "2027-01-28 10:00 +0100"
    assert local(when_of["run:1:tool:m1"]) == "2027-01-12 10:00 +0100"
    assert local(when_of["run:1:exercise:m1:w1"]) == "2027-01-18 11:00 +0100"
    assert local(when_of["run:1:evaluation:m6"]) == "2027-04-27 10:00 +0200"

    transcript = console.transcript
    assert transcript.count("== Ukens lille øvelse ==") == 10
    assert "Denne uka: Spør én kollega «Hva forventer du av meg i rollen min?»" in transcript
    assert "Før Modul 2: samling med personalet (mandag 1. februar kl. 18.00): Start en runde" in transcript
    assert "[direktemelding til Siri] Partsbot:\n  == Til leder, verneombud og tillitsvalgt ==" in transcript
    assert (
        "[direktemelding til Per] Partsbot:\n  == Til leder, verneombud og tillitsvalgt ==" not in transcript
    )
    # Digital modules are for the trio: their reminders and evaluations go to the trio privately; staff
    # gatherings are for all: their reminders go to the channel and their evaluations to every member.
    assert transcript.count("[direktemelding til Siri] Partsbot:\n  == Snart: neste modul ==") == 4
    assert "[direktemelding til Per] Partsbot:\n  == Snart: neste modul ==" not in transcript
    assert len(re.findall(r"^#\d+ Partsbot:\n  == Snart: neste modul ==", transcript, re.MULTILINE)) == 2
    assert transcript.count("[direktemelding til Per] Partsbot:\n  == Hvordan var modulen? ==") == 2
    assert transcript.count("[direktemelding til Siri] Partsbot:\n  == Hvordan var modulen? ==") == 5
    # After each digital module, what it was about, in the channel, with the course's source.
    for module in (1, 3, 5):
        assert f"== Modul {module} i korte trekk ==" in transcript
    assert "«Dårlig kommunikasjon» er ofte en merkelapp som skjuler årsakene." in transcript
    source = "_Kilde: Kurs i rolleforståelse og partssamarbeid, Bransjeprogram barnehage._"
    assert transcript.count(source) == 3
    assert local(when_of["run:1:in-brief:m1"]) == "2027-01-12 09:00 +0100"

    # The plan shows the course done and the evaluation before and after (5 answers each: shown).
    out = await console.as_("Kari", "/parts kurs")
    assert "6 av 6 moduler gjennomført. Ingen flere planlagte påminnelser." in out
    # perspective: before (2+3+2+3+2)/5 = 2.4, after (4+4+3+4+5)/5 = 4.0; improved (4+5+4+4+3)/5 = 4.0
    assert "Ta andres perspektiv: før 2,4, etter 4,0" in out
    assert "Partssamarbeidet fungerer: før 2,8, etter 3,8" in out
    assert "Blitt bedre til å ta andres perspektiv: 4,0" in out
    last_summary = transcript[transcript.rindex("== Ukeoppsummering – Solsikken barnehage ==") :]
    assert "• Ta andres perspektiv: 2,4 → 4,0" in last_summary
    assert "Alle modulene er gjennomført." in last_summary
