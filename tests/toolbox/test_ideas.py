"""The idea hunt through the console chat: "Ja, og …" chains, the gentle reminder for "men", and a
deadline counted in working days."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.chat.model import Actor, Message, Place
from bot.toolbox.idea_hunt import default_deadline
from bot.toolbox.models import Case, Idea
from tests.console_driver import ConsoleDriver, message_number, option_number


async def idea_case(make_bot) -> tuple[ConsoleDriver, str]:  # type: ignore[no-untyped-def]
    """An idea hunt on its own, started by Kari (leder); Siri and Per are staff."""
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Siri ansatt")
    await console.as_("Per ansatt")
    await console.as_("Kari leder")
    out = await console.type("/parts idejakt Hvordan fordeler vi dagens oppgaver?")
    assert "*Steg 3: Idéjakt* – til og med torsdag 26.11.2026." in out  # Tuesday → end of Thursday
    assert "Steg: 3/6 Idéjakt" in out
    return console, message_number(out, "== Sak #1")


async def test_chains_buttons_and_the_reminder(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console, head = await idea_case(make_bot)
    out = await console.as_("Siri", f"/tråd {head}", "En tavle i garderoben med dagens oppgaver.")
    assert "💡 *#1* Siri: En tavle i garderoben med dagens oppgaver." in out
    out = await console.as_("Per", "Ja, og #1: med bilder, så barna ser den også.")
    assert "💡 *#2* Per: med bilder, så barna ser den også." in out
    assert "Bygger på: #2 ← #1" in out
    # "Ja, og …" under idea 2 opens a form that builds on it.
    out = await console.as_("Siri", option_number(out, "Ja, og … (#2)"))
    assert "== Ja, og … (#2) ==" in out
    assert "Du bygger videre på #2: «med bilder, så barna ser den også.»" in out
    out = await console.type("Barna kan flytte bildene selv i samlingsstunden.")
    assert "💡 *#3* Siri: Barna kan flytte bildene selv i samlingsstunden." in out
    assert "Bygger på: #3 ← #2 ← #1" in out
    assert "#3 ← #2 ← #1 Barna kan flytte bildene" in out  # the head shows the chain too
    # Blocking gets a friendly private reminder, and the idea is still kept.
    out = await console.as_("Per", "Nei, men det har vi prøvd før.")
    assert "💡 *#4* Per: Nei, men det har vi prøvd før." in out
    assert "(bare synlig for Per) Partsbot:" in out
    assert "Husk regelen i idéjakten: «Ja, og …»" in out
    out = await console.type("men hvem skal lage den?")
    assert "Husk regelen i idéjakten" in out
    out = await console.type("Mennesker trenger oversikt.")  # "men" only as a whole word
    assert "Husk regelen" not in out
    out = await console.type("ja, og #12 noe helt nytt")
    assert "Jeg finner ingen idé #12 i denne saken." in out
    out = await console.type("Mennesker trenger oversikt.")  # the same idea again from the same person
    assert "Det er allerede registrert." in out
    with database.transaction() as s:
        ideas = list(s.scalars(select(Idea).order_by(Idea.number)))
        assert [i.number for i in ideas] == [1, 2, 3, 4, 5, 6]
        assert [i.blocking for i in ideas] == [False, False, False, True, True, False]
        by_id = {i.id: i.number for i in ideas}
        assert [by_id.get(i.builds_on_id) if i.builds_on_id else None for i in ideas] == [
            None, 1, 2, None, None, None,
        ]  # fmt: skip


async def test_deadline_rules(make_bot, database, clock) -> None:  # type: ignore[no-untyped-def]
    console, head = await idea_case(make_bot)
    out = await console.as_("Siri", f"/tråd {head}", "/parts idejakt frist 2026-12-10")
    assert "Bare den som startet saken, eller leder, verneombud eller tillitsvalgt" in out
    out = await console.as_("Kari", "/parts idejakt frist 2026-11-01")
    assert "Fristen «2026-11-01» er allerede passert." in out
    out = await console.type("/parts idejakt frist over jul")
    assert "«over jul» forstår jeg ikke som dato eller klokkeslett." in out
    out = await console.type("/parts idejakt frist 31.02.")
    assert "«31.02.» er ikke en dato." in out
    out = await console.type("/parts idejakt frist 1.11.")  # never moved to next year without asking
    assert "«1.11.» er 1.11.2026, og den har allerede vært. Mener du neste år, skriv 1.11.2027." in out
    out = await console.type("/parts idejakt frist 25.11.2026 12:00")
    assert "Frist for idéjakten: onsdag 25.11.2026 kl. 12.00." in out
    # The deadline form (a date picker on Slack and Teams).
    out = await console.type("/kanal", "/parts problem #1")
    out = await console.type(option_number(out, "Sett frist"), "2026-11-27")
    assert "Frist for idéjakten: til og med fredag 27.11.2026." in out
    with database.transaction() as s:
        deadline = s.scalar(select(Case.ideas_deadline))
    assert deadline == datetime(2026, 11, 27, 23, 0, tzinfo=UTC)  # midnight in Oslo
    out_before_close = await console.as_("Per", f"/tråd {head}", "Faste faddere for hver oppgave.")
    assert "💡 *#1* Per" in out_before_close
    clock.set(datetime(2026, 11, 27, 23, 0, tzinfo=UTC))
    out = await console.type("En idé for sent.")
    assert "Idéjakten er over – fristen var til og med fredag 27.11.2026." in out
    out = await console.type(option_number(out_before_close, "Ja, og … (#1)"))  # no form after the deadline
    assert "Idéjakten er over" in out and "==" not in out
    out = await console.as_("Kari", "/parts idejakt")
    assert "Idéjakten i sak #1 er over – fristen var til og med fredag 27.11.2026." in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Idea)) == 1


async def test_ideas_only_in_the_idea_step(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Ola verneombud")
    out = await console.type("/parts problem Vikarene vet ikke hvor ting er.")
    head = message_number(out, "== Sak #1")
    out = await console.as_("Siri", f"/tråd {head}", "/parts idejakt idé Et kart over huset")
    assert "Tatt vare på som idé #1 til idéjakten i sak #1." in out  # kept for the hunt
    out = await console.type("/parts idejakt")  # staff may not jump the case ahead
    assert "Bare den som startet saken" in out
    out = await console.as_("Ola", "/parts idejakt")  # the owner may: define closes, the hunt starts
    assert "*Steg 3: Idéjakt*" in out
    assert "*Idéer som kom før idéjakten:*\n      💡 #1 Et kart over huset" in out
    out = await console.type("/parts idejakt")
    assert "Idéjakten er i gang i sak #1 (til og med torsdag 26.11.2026)." in out
    out = await console.type("/parts idejakt idé Et kart over huset")
    assert "💡 *#2* Ola: Et kart over huset" in out


@pytest.mark.parametrize(
    ("now", "last_day"),
    [
        (datetime(2026, 11, 24, 9, 30, tzinfo=UTC), "2026-11-26"),  # Tuesday → Thursday
        (datetime(2026, 11, 27, 14, 0, tzinfo=UTC), "2026-12-01"),  # Friday → Tuesday
        (datetime(2026, 12, 23, 10, 0, tzinfo=UTC), "2026-12-29"),  # julaften, 1. and 2. juledag, Sunday
        (datetime(2026, 3, 31, 10, 0, tzinfo=UTC), "2026-04-07"),  # Easter: skjærtorsdag to 2. påskedag
    ],
)
def test_default_deadline_counts_working_days(now: datetime, last_day: str) -> None:
    zone = ZoneInfo("Europe/Oslo")
    deadline = default_deadline(now, zone).astimezone(zone)
    assert deadline.hour == 0 and deadline.minute == 0
    assert (deadline.date().toordinal() - 1) == datetime.fromisoformat(last_day).date().toordinal()


async def test_many_people_adding_ideas_at_once_all_count(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    """Idea numbers are per case: concurrent ideas must neither collide nor be refused as duplicates."""
    console, head = await idea_case(make_bot)
    place = Place("console", "console", "personalet", head)
    events = [Message(Actor(f"u-kollega-{i}", f"Kollega {i}"), place, f"Idé nummer {i}") for i in range(12)]
    await asyncio.gather(*(console.bot.handle(event) for event in events))
    with database.transaction() as s:
        numbers = sorted(s.scalars(select(Idea.number)))
    assert numbers == list(range(1, 13))
    assert "allerede registrert" not in console.take()
