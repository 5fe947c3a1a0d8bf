"""Staff gatherings and HØRA both ways: the trio gets a ready HØRA draft for modules 2 and 4 built from the
unit's own material; a meeting for a case starts from the case; the meeting's answer goes back to the case."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from bot.toolbox.models_plan import AgendaItem, Meeting
from tests.console_driver import ConsoleDriver, message_number, option_number
from tests.course.course_helpers import local, oslo, team, walk

BUTTON = "Lag HØRA for samlingen"


async def enrolled(make_bot, clock):  # type: ignore[no-untyped-def]
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await team(console)
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    return bot, console


def agenda(database, meeting_id: int) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        rows = s.scalars(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)
        )
        return [(i.kind, i.title, i.minutes) for i in rows]


async def test_the_trio_gets_a_hora_draft_for_the_roles_gathering(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    bot, console = await enrolled(make_bot, clock)
    await console.as_("Ola", "/parts roller")  # a roles round in the channel before the gathering
    console.take()
    # Five working days before module 2 (Monday 1 February 18:00): Monday 25 January 10:00.
    sent = await walk(bot, clock, oslo(2027, 1, 25, 10, 5))
    assert ("run:1:trio-plan:m2") in [key for _, key in sent]
    out = console.take()
    assert "[direktemelding til Ola] Partsbot:\n  == Til leder, verneombud og tillitsvalgt ==" in out
    assert "leder åpner og sier hensikten, verneombudet leder idérunden" in out
    assert "[direktemelding til Per] Partsbot:\n  == Til leder, verneombud og tillitsvalgt ==" not in out

    # A staff member who types the button's number is refused: the draft is for the trio.
    number = option_number(out, BUTTON)
    refused = await console.as_("Per", number)
    assert "Utkastet er for leder, verneombud og tillitsvalgt i barnehagen." in refused
    assert "== Nytt møte med HØRA ==" not in refused

    form = await console.as_("Ola", number)
    assert "== Nytt møte med HØRA ==" in form
    assert "│ Forstå hverandres roller, så vi samarbeider bedre om arbeidsmiljøet" in form
    # Every field keeps its suggestion: the module's own day and time, 90 minutes, no case.
    out = await console.type("", "", "", "", "", "", "")
    assert "Agendaen er lagt ut (møte 1)." in out
    with database.transaction() as s:
        meeting = s.scalar(select(Meeting))
        assert meeting is not None
        assert local(meeting.starts_at) == "2027-02-01 18:00 +0100"
        assert (meeting.length_minutes, meeting.case_id) == (90, None)
    assert agenda(database, 1) == [
        ("information", "Hva kurset handler om, og hvorfor vi gjør dette sammen", 10),
        (
            "idea",
            "Snakke sammen om rollene – hva gjør jeg, hva forventer jeg av de andre, hvor møtes rollene?",
            35,
        ),
        ("information", "Det vi skrev i rollerunden i kanalen", 10),
        ("decision", "Én ting vi prøver før neste samling", 15),
    ]


async def test_the_draft_for_module_4_builds_on_the_open_case_and_its_ideas(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    bot, console = await enrolled(make_bot, clock)
    clock.set(oslo(2027, 2, 10, 10).astimezone(UTC))
    await console.as_("Ola", "/parts problem --parter Konflikt mellom to på avdelingen")
    out = await console.type("/parts idejakt Garderoben (igjen); kaos om morgenen")
    # Case #1 is open, so the bot asks whether this is about it or something new (issue 13).
    out = await console.type(option_number(out, "En ny sak"))
    head = message_number(out, "== Sak #2")
    await console.as_("Per", f"/tråd {head}", "Faste plasser for hver gruppe")
    await console.as_("Aisha", "Ja, og #1 med navn og bilde", "/kanal")
    console.take()
    # Module 4 is Monday 15 March 18:00; the trio's nudge comes five working days before.
    await walk(bot, clock, oslo(2027, 3, 8, 10, 5))
    out = console.take()
    form = await console.as_("Siri", option_number(out, BUTTON))
    # ";" and "(…)" mean something in an agenda: a case's title cannot break the draft.
    assert "│ Finne løsninger sammen på sak 2: Garderoben igjen, kaos om morgenen" in form
    assert "Konflikt" not in form  # a parties-only case never goes on an agenda for everyone
    out = await console.type("", "", "", "", "", "", "")
    assert "Agendaen er lagt ut (møte 1)." in out
    with database.transaction() as s:
        assert s.scalar(select(Meeting.case_id)) == 2
    items = agenda(database, 1)
    assert [kind for kind, _, _ in items] == ["information", "idea", "decision", "decision"]
    assert "bygg videre på det som står i tråden (2 idéer)" in items[1][1]


async def test_a_meeting_for_a_case_starts_from_the_case_and_its_answer_goes_back(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await team(console)
    out = await console.as_("Ola", "/parts problem Beskjeder om hvem som gjør hva blir borte")
    head = message_number(out, "== Sak #1")
    form = await console.as_("Kari", "/parts høra sak 1")
    # Hensikt, Ønsket resultat and the agenda item follow from the case and the step it is in.
    assert "│ Komme videre med sak 1: Beskjeder om hvem som gjør hva blir borte" in form
    desired = await console.type("")  # Enter takes the suggestion and shows the next field's
    assert "│ Vi er enige om hva som er selve problemet, ikke bare symptomet" in desired
    items = await console.type("")
    assert (
        "│ Idé: Sak 1 Beskjeder om hvem som gjør hva blir borte – symptom eller problem, og hvorfor? (20)"
        in items
    )
    out = await console.type("", "torsdag", "14:00", "30", "")
    assert "Agendaen er lagt ut (møte 1)." in out
    assert agenda(database, 1) == [
        ("idea", "Sak 1 Beskjeder om hvem som gjør hva blir borte – symptom eller problem, og hvorfor?", 20)
    ]
    # After the meeting the organiser's answer is written back into the case's thread.
    console.chat.bot.clock.advance(days=3)  # type: ignore[attr-defined]
    out = await console.type("/parts høra resultat 1 delvis vi rakk ikke alle")
    assert "Takk! Lagret for møte 1: Delvis." in out
    assert (
        f"(tråd #{head}) Partsbot:\n      Møtet torsdag 26.11.2026 kl. 14.00 hadde som ønsket resultat "
        in out
    )
    assert (
        "«Vi er enige om hva som er selve problemet, ikke bare symptomet». Nådde vi det? Delvis – "
        "«vi rakk ikke alle»"
    ) in out
