"""HØRA through the console: the form, the grouped agenda, the over-time warning, bad input, the case
link and the follow-up after the meeting (driven by the scheduler hook with an injected ``now``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.chat.context import UserError
from bot.dates.days import parse_clock, parse_day
from bot.toolbox.hora import due_meeting_followups, parse_agenda
from bot.toolbox.models_plan import AgendaItem, Meeting
from tests.console_driver import ConsoleDriver, option_number

# The clock fixture says Tuesday 24 November 2026, 10:30 in Oslo.
AGENDA = "Info: Nytt vaktsystem (10); Beslutning: Hvem rydder garderoben (20 min); Idé: Bedre beskjeder (15)"


async def _plan_meeting(console: ConsoleDriver, agenda: str = AGENDA, length: str = "60") -> str:
    await console.as_("Kari leder")
    out = await console.type("/parts høra")
    assert "== Nytt møte med HØRA ==" in out
    return await console.type(
        "Bli enige om hvem som gjør hva i garderoben",
        "En fordeling alle kjenner",
        agenda,
        "26.11.",
        "14:00",
        length,
        "",
    )


async def test_agenda_is_posted_grouped_with_kinds(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await _plan_meeting(console)
    assert "== Personalmøte torsdag 26.11.2026 kl. 14.00 (60 min) ==" in out
    assert "*H – Hensikt:* Bli enige om hvem som gjør hva i garderoben" in out
    assert "*ØR – Ønsket resultat:* En fordeling alle kjenner" in out
    # In the order Kari wrote them, with a legend of the kinds used.
    info = out.index("1. [I] Nytt vaktsystem – 10 min")
    decision = out.index("2. [B] Hvem rydder garderoben – 20 min")
    idea = out.index("3. [Idé] Bedre beskjeder – 15 min")
    assert info < decision < idea
    assert "[I] informasjon: referatsaker, ingen diskusjon" in out
    assert "Sum: 45 av 60 min" in out
    assert "⚠" not in out
    assert "Agendaen er lagt ut (møte 1)." in out
    with database.transaction() as s:
        meeting = s.scalar(select(Meeting))
        assert meeting is not None
        assert meeting.starts_at == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
        assert meeting.length_minutes == 60
        kinds = [i.kind for i in s.scalars(select(AgendaItem).order_by(AgendaItem.position))]
        assert kinds == ["information", "decision", "idea"]


async def test_over_time_is_warned_but_posted(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await _plan_meeting(console, length="30")
    assert "⚠ Agendaen er 15 min lengre enn møtet." in out
    assert "Obs: sakene tar 15 minutter mer enn møtet (30 min)." in out
    assert "Sum: 45 av 30 min" in out


@pytest.mark.parametrize(
    ("fields", "answer"),
    [
        (("", "x", AGENDA), "Dette feltet må fylles ut."),  # the console insists on required fields
        (("H", "Ø", "Info: (10)"), "Sak 1 («Info: (10)»): hva handler saken om?"),
        (("H", "Ø", "Drøfting:"), "Sak 1 («Drøfting:»): hva handler saken om?"),
        (("H", "Ø", "Info: A (900)"), "minuttene må være fra 1 til 480"),
    ],
)
async def test_bad_agenda_lines_get_clear_answers(make_bot, database, fields, answer) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.type("/parts høra")
    out = await console.type(*fields)
    # The console checks the agenda as soon as it is typed and asks for it again; nothing is lost.
    assert answer in out
    assert out.rstrip().endswith("«Eventuelt»") or "Dette feltet må fylles ut." in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 0


@pytest.mark.parametrize(
    ("day", "time", "length", "answer"),
    [
        ("31.02.2027", "14:00", "60", "«31.02.2027» er ikke en dato."),
        ("26.11.", "25:00", "60", "«25:00» er ikke et klokkeslett."),
        ("26.11.", "14:00", "lenge", "«lenge» er ikke en lengde jeg kan bruke."),
        ("2026-11-23", "14:00", "60", "ville vært i fortiden"),
        ("i dag", "08:00", "60", "ville vært i fortiden"),
    ],
)
async def test_bad_day_time_and_length(make_bot, database, day, time, length, answer) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.type("/parts høra")
    out = await console.type("H", "Ø", AGENDA, day, time, length, "")
    assert answer in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 0


async def test_same_form_twice_posts_once(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await _plan_meeting(console)
    out = await _plan_meeting(console)
    assert "Dette møtet er allerede lagt ut (møte 1)." in out
    assert "== Møte" not in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 1


async def test_follow_up_after_the_meeting_stores_the_answer(make_bot, database, clock) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await _plan_meeting(console)
    # Too early: the scheduler finds nothing, and an answer before the start is refused.
    with database.transaction() as s:
        assert due_meeting_followups(s, clock()) == []
    out = await console.type("/parts høra resultat 1 ja")
    assert "Møtet har ikke begynt ennå" in out
    clock.set(datetime(2026, 11, 26, 14, 0, tzinfo=UTC))  # 15:00 in Oslo: the meeting ended
    with database.transaction() as s:
        assert due_meeting_followups(s, clock()) == [1]
    with database.transaction() as s:
        assert due_meeting_followups(s, clock()) == []  # asked once
    await bot.delivery.flush()
    out = console.take()
    assert "[direktemelding til Kari] Partsbot:" in out
    assert "Møtet torsdag 26.11.2026 kl. 14.00 er over." in out
    # Someone else may not answer for the organiser: a colleague is told so; a stranger, who may not see the
    # meeting at all (the button acts in Kari's direct message, not in the channel), hears "unknown".
    button = option_number(out, "Delvis")
    out = await console.as_("Nils", button)
    assert "Jeg finner ikke møte 1 her." in out
    out = await console.as_("Ola ansatt", button)
    assert "Bare den som kalte inn til møtet" in out
    out = await console.as_("Kari", button)
    assert "Takk! Lagret for møte 1: Delvis." in out
    assert "Ønsket resultat nådd: Delvis" in out  # the agenda shows the answer, in place
    out = await console.type(button)
    assert "Det er allerede registrert. Ingenting ble endret." in out
    out = await console.type("/parts høra resultat 1 delvis vi rakk ikke beslutningen")
    assert "Kommentar: vi rakk ikke beslutningen" in out
    with database.transaction() as s:
        meeting = s.scalar(select(Meeting))
        assert meeting is not None
        assert (meeting.result, meeting.result_comment) == ("partly", "vi rakk ikke beslutningen")
        assert meeting.followup_asked_at == clock()


async def test_result_command_bad_input(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.type("/parts høra resultat 1 kanskje")
    assert "Skriv `/parts høra resultat <møtenr> ja|delvis|nei [kommentar]`" in out
    out = await console.type("/parts møte resultat 7 ja")
    assert "Jeg finner ikke møte 7 her." in out
    out = await console.type("/parts meeting tull")
    assert "Skriv `/parts høra` for å planlegge et personalmøte" in out


def test_agenda_parser_is_forgiving_about_form() -> None:
    items = parse_agenda(
        "- Informasjon: Nytt vaktsystem (10 min)\n"
        "2) IDÉ – Bedre beskjeder – 15\n"
        "• vedtak: Budsjett 2027 (20)\n"
        "Avgjerd: Garderoben 5 minutt\n"
        "Decision - Rota (5m)\n"
    )
    assert [(i.kind, i.title, i.minutes) for i in items] == [
        ("information", "Nytt vaktsystem", 10),
        ("idea", "Bedre beskjeder", 15),
        ("decision", "Budsjett 2027", 20),
        ("decision", "Garderoben", 5),
        ("decision", "Rota", 5),
    ]
    with pytest.raises(UserError) as err:
        parse_agenda(" ; \n ")
    assert err.value.key == "hora.agenda_empty"


def test_agenda_accepts_every_kind_and_items_without_one_in_the_order_written() -> None:
    # The agenda from the UX review that used to be refused after all seven answers.
    items = parse_agenda(
        "Info: Status på tiltakene (5); Drøfting: Hvordan går det med tavla? (15); "
        "Beslutning: Ansvarsområder for desember (20); Eventuelt"
    )
    assert [(i.kind, i.title, i.minutes) for i in items] == [
        ("information", "Status på tiltakene", 5),
        ("discussion", "Hvordan går det med tavla?", 15),
        ("decision", "Ansvarsområder for desember", 20),
        ("other", "Eventuelt", 0),
    ]
    items = parse_agenda("Orientering: Ny turnus (5)\nNytt vaktsystem (10)\nStatus: Kaffe\neventuelt (5)")
    assert [(i.kind, i.title, i.minutes) for i in items] == [
        ("information", "Ny turnus", 5),
        ("none", "Nytt vaktsystem", 10),
        ("none", "Status: Kaffe", 0),
        ("other", "eventuelt", 5),
    ]


async def test_review_agenda_is_posted_in_order_and_the_form_keeps_earlier_answers(
    make_bot, database
) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Kari", "/parts rolle leder")
    await console.type("/parts høra")
    out = await console.type(
        "Følge opp planen for morgenrutinene",
        "En ferdig oversikt for desember",
        "Info: Status på tiltakene (5); Drøfting: Hvordan går det med tavla? (15); "
        "Beslutning: Ansvarsområder for desember (20); Eventuelt",
        "31.02.",
    )
    # A wrong day is named at once and asked again; the three answers before it are kept.
    assert "«31.02.» er ikke en dato." in out
    assert out.rstrip().endswith("– for eksempel torsdag, 3.12. eller 3. desember")
    out = await console.type("torsdag", "kl 13.30", "45", "")
    assert "== Personalmøte torsdag 26.11.2026 kl. 13.30 (45 min) ==" in out
    first = out.index("1. [I] Status på tiltakene – 5 min")
    second = out.index("2. [D] Hvordan går det med tavla? – 15 min")
    third = out.index("3. [B] Ansvarsområder for desember – 20 min")
    fourth = out.index("4. [Evt] Eventuelt")
    assert first < second < third < fourth
    assert "[D] drøfting: vi snakker sammen" in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 1


def test_days_and_times_people_type() -> None:
    today = date(2026, 11, 24)  # a Tuesday
    assert parse_day("26.11.", today) == date(2026, 11, 26)
    assert parse_day("3.1", today) == date(2027, 1, 3)  # the next 3 January
    assert parse_day("2026-12-03", today) == date(2026, 12, 3)
    assert parse_day("03.12.26", today) == date(2026, 12, 3)
    assert parse_day("fredag", today) == date(2026, 11, 27)
    assert parse_day("tirsdag", today) == today
    assert parse_day("i morgen", today) == date(2026, 11, 25)
    assert parse_day("31.2.", today) is None
    assert parse_day("snart", today) is None
    assert parse_clock("kl. 9") is not None and parse_clock("9.30") is not None
    assert parse_clock("24:00") is None


async def test_a_case_goes_on_the_agenda_but_not_a_parties_only_one(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Ola verneombud", "/parts idejakt Garderoben om morgenen")
    await console.type("/parts problem --parter Konflikt på avdelingen")
    assert "Jeg finner ingen sak #9" in await console.type("/parts høra sak 9")
    assert "Sak 2 er bare for partene" in await console.type("/parts høra personalmøte sak 2")
    out = await console.type("/parts høra sak 1")
    assert "== Nytt møte med HØRA ==" in out
    out = await console.type(
        "Fordele oppgavene", "En fordeling", "Beslutning: Garderoben (20)", "fredag", "14", "30", ""
    )
    assert "*Sak 1:* Garderoben om morgenen" in out
    assert "Denne saken står på agendaen for møtet fredag 27.11.2026 kl. 14.00." in out
    with database.transaction() as s:
        assert s.scalar(select(Meeting.case_id)) == 1
