"""Meeting kinds: personalmøte, ledermøte, HMS-gruppe and the trio's own meeting (partsmøte).

The trio meeting is private to leder, verneombud and tillitsvalgt of its unit and is the only agenda a
parties-only case may stand on; every path to a meeting (the result command, the result button, the HMS
record) asks the access policy in the meeting's own unit. Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import Partsbot
from bot.record import hms
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Member, Unit
from bot.toolbox import access
from bot.toolbox.hora import due_meeting_followups, parse_agenda
from bot.toolbox.models_plan import AgendaItem, Meeting
from handlers import build_router
from tests.console_driver import ConsoleDriver

TRIO_AGENDA = (
    "Drøfting: Konflikten på avdelingen (30) | vi må forstå hva som skjer, og vil bli enige om neste steg"
)


def _bot(db: Database, clock) -> Partsbot:  # type: ignore[no-untyped-def]
    return Partsbot(Settings(database_url=db.url, env="test"), db, build_router(), clock)


async def _people(console: ConsoleDriver) -> None:
    await console.as_("Kari leder")
    await console.as_("Nina tillitsvalgt")
    await console.as_("Per ansatt", "/parts hjelp")
    await console.as_("Ola verneombud")


def test_agenda_items_carry_why_and_what_we_want() -> None:
    [item] = parse_agenda(TRIO_AGENDA)
    assert (item.kind, item.title, item.minutes) == ("discussion", "Konflikten på avdelingen", 30)
    assert item.why == "vi må forstå hva som skjer, og vil bli enige om neste steg"
    [plain] = parse_agenda("Info: Nytt vaktsystem (10)")
    assert plain.why == ""


async def test_a_trio_meeting_is_the_trios_alone(default_and_postgres: Database, clock) -> None:  # type: ignore[no-untyped-def]
    db = default_and_postgres
    console = ConsoleDriver(_bot(db, clock))
    await console.start()
    await _people(console)
    await console.type("/parts problem --parter Konflikt mellom to på avdelingen")
    # A parties-only case makes the trio meeting the default, and fills the form from the case.
    out = await console.type("/parts høra sak 1")
    assert "Møtetype: Partsmøte (leder, verneombud og tillitsvalgt)." in out
    out = await console.type("", "", TRIO_AGENDA, "26.11.", "16:00", "45", "")
    assert "== Partsmøte (leder, verneombud og tillitsvalgt) torsdag 26.11.2026 kl. 16.00 (45 min) ==" in out
    assert "*Sak 1:* Konflikt mellom to på avdelingen" in out
    assert "_Hvorfor og hva vil vi:_ vi må forstå hva som skjer" in out
    assert "Sidesaker? Noter dem" in out and "Skriv dem i tråden" not in out  # a direct message has no thread
    # The agenda went to each of the trio as a direct message – nothing in the channel.
    agendas = out.count("== Partsmøte (leder, verneombud og tillitsvalgt)")
    assert agendas == 3
    for name in ("Kari", "Ola", "Nina"):
        assert f"[direktemelding til {name}] Partsbot:" in out
    assert "direktemelding til Per" not in out
    assert not any(line.startswith("#") for line in out.splitlines())  # nothing posted in the channel
    with db.transaction() as s:
        meeting = s.scalars(select(Meeting)).one()
        assert (meeting.kind, meeting.case_id) == ("trio", 1)
        assert s.scalars(select(AgendaItem.why)).one().startswith("vi må forstå")

    # Per (staff) cannot plan one, nor reach it by number or by its button: it does not exist for him.
    out = await console.as_("Per ansatt", "/parts høra trio")
    assert "Et partsmøte er for leder, verneombud og tillitsvalgt." in out
    out = await console.type("/parts høra resultat 1 ja")
    assert "Jeg finner ikke møte 1 her." in out
    with db.transaction() as s:
        per = s.scalars(select(Member).where(Member.display_name == "Per")).one()
        ola = s.scalars(select(Member).where(Member.display_name == "Ola")).one()
        unit = s.scalars(select(Unit)).one()
        meeting = s.scalars(select(Meeting)).one()
        assert not access.may_see_meeting(s, unit.organisation_id, per.id, meeting)
        assert access.may_see_meeting(s, unit.organisation_id, ola.id, meeting)
        # The record Per's unit files leaves the trio's meeting out; the trio's own record has it.
        staff_record = hms.collect(s, unit, clock(), "nb", for_trio=False)
        trio_record = hms.collect(s, unit, clock(), "nb", for_trio=True)
        assert staff_record.meetings == ()
        [kept] = trio_record.meetings
        assert kept.kind.startswith("Partsmøte") and kept.items[0].why.startswith("vi må forstå")

    # After the meeting the organiser answers; the result goes back to the trio only, not to the channel
    # and not to anyone outside the trio.
    clock.advance(days=3)
    with db.transaction() as s:
        assert due_meeting_followups(s, clock()) == [1]
    out = await console.as_("Ola verneombud", "/parts høra resultat 1 delvis vi trenger ett møte til")
    assert "Takk! Lagret for møte 1: Delvis." in out
    assert "hadde som ønsket resultat" in out
    assert "direktemelding til Kari" in out and "direktemelding til Per" not in out
    assert not any(line.startswith("#") for line in out.splitlines())
    out = await console.as_("Per ansatt", "/parts høra resultat 1 ja")
    assert "Jeg finner ikke møte 1 her." in out


async def test_other_kinds_never_hold_a_parties_only_case(make_bot, database, clock) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await _people(console)
    await console.type("/parts problem --parter Konflikt mellom to på avdelingen")
    for kind in ("personalmøte", "ledermøte", "hms"):
        out = await console.type(f"/parts høra {kind} sak 1")
        assert "Sak 1 er bare for partene" in out
        assert "/parts høra trio sak 1" in out
    # Nor through the form's case field.
    out = await console.type("/parts høra hms")
    assert "Møtetype: HMS-gruppemøte." in out
    out = await console.type("Gå gjennom vernerunden", "En liste over avvik", "Info: Vernerunden (20)")
    out = await console.type("27.11.", "14:00", "30", "1")
    assert "Sak 1 er bare for partene" in out
    out = await console.type("")
    assert "== HMS-gruppemøte fredag 27.11.2026 kl. 14.00 (30 min) ==" in out
    with database.transaction() as s:
        meeting = s.scalars(select(Meeting)).one()
        assert (meeting.kind, meeting.case_id) == ("hms", None)
    # Staff see the channel's meetings: a ledermøte or HMS-gruppe is not private.
    with database.transaction() as s:
        per = s.scalars(select(Member).where(Member.display_name == "Per")).one()
        unit = s.scalars(select(Unit)).one()
        assert access.may_see_meeting(s, unit.organisation_id, per.id, meeting)
        assert [
            m.kind for m in hms.collect(s, unit, clock() + timedelta(days=1), "nb", for_trio=False).meetings
        ]


async def test_the_trio_meeting_and_its_case_stay_away_from_the_cases_starter(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    """A staff member who raised a parties-only case sees the case, but not the trio's meeting about it."""
    console = ConsoleDriver(make_bot())
    await console.start()
    await _people(console)
    await console.as_("Per ansatt", "/parts problem --parter Jeg blir holdt utenfor på avdelingen")
    out = await console.as_("Kari leder", "/parts høra sak 1")
    assert "Møtetype: Partsmøte" in out
    out = await console.type("", "", "Drøfting: Saken (20)", "26.11.", "16:00", "30", "")
    assert "Denne saken står på agendaen for møtet torsdag 26.11.2026 kl. 16.00." in out
    assert "[direktemelding til Kari] Partsbot:" in out and "direktemelding til Per" not in out
    out = await console.as_("Per ansatt", "/parts høra resultat 1 ja")
    assert "Jeg finner ikke møte 1 her." in out
