"""A busy morning through the console, with the exact inputs of the UX review (ux.md items 12–15, 18, 25, 29):
dates people type, confirmations that repeat owner and date, forms that ask again at once and keep what
was typed, a command typed into an open form, a bare number in a voting thread, and names with æøå."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bot.chat.model import Submission
from bot.course.models import CourseRun
from bot.storage.models import Member
from bot.toolbox.models import Case
from bot.toolbox.models_plan import ActionItem, Meeting, Obstacle, VoteDot
from tests.console_driver import ConsoleDriver, message_number, option_number

# The clock fixture says Tuesday 24 November 2026, 10:30 in Oslo.


async def _case_at_plan(console: ConsoleDriver) -> str:
    await console.start()
    for who in ("Kari leder", "Per ansatt", "Anne ansatt", "Jonas ansatt"):
        await console.type(f"/som {who}")
    out = await console.as_("Kari", "/parts idejakt Det går for mye tid til å avklare hvem som gjør hva")
    thread = message_number(out, "== Sak #1:")
    return await console.type(f"/tråd {thread}", "Felles tavle ved inngangen", "/parts plan")


async def test_action_dates_as_people_type_them(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await _case_at_plan(console)
    # Every confirmation repeats the owner and the date, so a misread date is seen at once.
    answers = {
        "/parts plan tiltak Per fredag Henge opp tavla ved inngangen": ": Per, innen fredag 27.11.2026.",
        "/parts plan tiltak meg 7.12. Lage oversikt over ansvarsområder": ": Kari, innen mandag 7.12.2026.",
        "/parts plan tiltak Anne neste uke Lage bilder av alle voksne": ": Anne, innen fredag 4.12.2026.",
        "/parts plan tiltak Jonas 1. desember Vise vikarene tavla": ": Jonas, innen tirsdag 1.12.2026.",
        "/parts plan tiltak Per 4. desember kl 14 Sjekke tavla": ": Per, innen fredag 4.12.2026.",
    }
    for line, answer in answers.items():
        out = await console.type(line)
        assert answer in out, (line, out)
    # Mistakes are named, and a date that has passed is questioned, not moved a year ahead.
    out = await console.type("/parts plan tiltak Jonas 31.02. Vise vikarene tavla")
    assert "«31.02.» er ikke en dato." in out
    out = await console.type("/parts plan tiltak Per 1.11. Dette var forrige måned")
    assert (
        "«1.11.» er 1.11.2026, og den fristen har allerede vært. Mener du neste år, skriv 1.11.2027." in out
    )
    with database.transaction() as s:
        dues = sorted(s.scalars(select(ActionItem.due)))
        assert dues == [
            date(2026, 11, 27),
            date(2026, 12, 1),
            date(2026, 12, 4),
            date(2026, 12, 4),
            date(2026, 12, 7),
        ]


async def test_action_form_asks_again_at_once_and_keeps_what_was_typed(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    out = await _case_at_plan(console)
    out = await console.type(option_number(out, "Tiltak"))
    assert "== Nytt tiltak ==" in out
    out = await console.type("Henge opp tavla", "3")
    # "over jul" is refused as soon as it is typed; the action text and the owner stay.
    out = await console.type("over jul")
    assert "«over jul» forstår jeg ikke som dato eller klokkeslett." in out
    assert "» Innen" in out
    out = await console.type("neste uke", "")  # no check-in indicator
    assert "Tiltaket er lagt til i planen for sak #1:" in out and "innen fredag 4.12.2026." in out
    with database.transaction() as s:
        item = s.scalar(select(ActionItem))
        assert item is not None and item.text == "Henge opp tavla" and item.due == date(2026, 12, 4)


async def test_a_command_in_an_open_form_asks_before_leaving_it(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Kari", "/parts problem")
    assert "== Ny sak ==" in out
    out = await console.type("/parts problem 😡😡")
    assert "Du har skjemaet «Ny sak» åpent. Vil du forlate det og kjøre «/parts problem 😡😡»?" in out
    out = await console.type("nei")  # back to the question; nothing became a case
    assert "\n» " in out  # the open question is asked again
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
    out = await console.type("/parts saker", "ja")
    assert "Skjemaet ble avbrutt. Ingenting ble sendt." in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


async def test_a_bare_number_in_a_voting_thread_is_a_vote(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    for who in ("Kari leder", "Anne ansatt"):
        await console.type(f"/som {who}")
    out = await console.as_("Kari", "/parts idejakt Hvem gjør hva i garderoben")
    thread = message_number(out, "== Sak #1:")
    await console.type(f"/tråd {thread}", "Felles tavle", "Morgenmøte", "/parts stemme")
    # "2" here means idea #2, not button [2] of an old card.
    out = await console.as_("Anne", f"/tråd {thread}", "2")
    assert "2 av 3 igjen" in out
    assert "Bare den som startet saken" not in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(VoteDot)) == 1


async def test_names_with_norwegian_letters_are_different_people(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.type("/som Åse", "/parts hjelp", "/som Ase", "/parts hjelp", "/som Bjørn", "/parts hjelp")
    with database.transaction() as s:
        names = sorted(s.scalars(select(Member.display_name)))
        ids = set(s.scalars(select(Member.user_id)))
    assert names == ["Ase", "Bjørn", "Åse"]
    assert {"u-åse", "u-ase", "u-bjørn"} <= ids


async def test_course_start_with_the_words_of_the_toolbox(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Kari leder", "/parts kurs start 1.12. kl 9")
    assert "Modul 1" in out and "tirsdag 1. desember kl. 09.00" in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(CourseRun)) == 1


async def test_typos_numbers_and_a_hello_in_a_direct_message(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Kari leder", "/parts nest")
    assert "Jeg kjenner ikke kommandoen «nest». Mente du `/parts neste`?" in out
    assert "Mente du `/parts problem`?" in await console.type("/parts problme Noe")
    out = await console.type("/parts problem Det går for mye tid til å avklare hvem som gjør hva")
    # "1" works like "#1"; "/parts sak 1" shows case 1 and starts no case "1".
    out = await console.type("/kanal", "/parts neste 1")
    assert "Sak #1 har gått videre til steg 2/6 Finn blindsonen." in out
    out = await console.type("/parts sak 1")
    assert "== Sak #1: Det går for mye tid til å avklare hvem som gjør hva ==" in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
    # A direct message always gets an answer.
    out = await console.type("/dm", "hei")
    assert "Hei! Her er det jeg kan hjelpe med." in out and "`/parts neste`" in out


async def test_english_help_shows_english_command_words(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Jonas", "/parts language en", "/parts help")
    assert "`/parts next`" in out and "`/parts vote`" in out and "`/parts meeting`" in out
    assert "`/parts neste`" not in out and "`/parts stemme`" not in out
    assert "Did you mean `/parts next`?" in await console.type("/parts nxt")


async def test_the_refined_problem_is_the_title_and_the_console_speaks_the_persons_language(
    make_bot, database
) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Kari leder", "/parts problem Det går for mye tid til beskjeder")
    await console.type("/parts problem presiser 1 Ingen fast, synlig fordeling av oppgaver")
    out = await console.type("/parts saker")
    assert "• #1 Ingen fast, synlig fordeling av oppgaver" in out
    # After /parts language en, the console's own words are English too.
    out = await console.as_("Jonas", "/parts language en", "/parts problem")
    assert "Answer one question per line." in out
    assert "Svar på ett spørsmål per linje" not in out


async def test_the_words_the_texts_teach_work(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    # The help now says "hindring … | løsning …" (løysing in nynorsk) and "bare-partene": both work.
    console = ConsoleDriver(make_bot())
    await _case_at_plan(console)
    await console.type("/parts plan hindring Vikarene vet ikke om ordningen | løysing Jonas viser dem tavla")
    await console.type(
        "/parts plan hindring Tavla blir glemt | løsning Den som tar imot sykmeldingen oppdaterer"
    )
    with database.transaction() as s:
        remedies = sorted(s.scalars(select(Obstacle.remedy)))
    assert remedies == ["Den som tar imot sykmeldingen oppdaterer", "Jonas viser dem tavla"]
    await console.type("/kanal", "/parts problem bare-partene Jeg har det tungt med arbeidsbelastningen")
    with database.transaction() as s:
        private = s.scalar(select(Case).where(Case.parties_only.is_(True)))
    assert private is not None and private.statement == "Jeg har det tungt med arbeidsbelastningen"


async def test_a_form_check_writes_nothing_and_only_forms_that_opt_in_are_checked(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await console.as_("Kari leder", "/parts hjelp")
    actor, place = console.chat.actor, console.chat.place
    hora = {
        "purpose": "H",
        "desired": "Ø",
        "agenda": "Info: A (5)",
        "day": "torsdag",
        "time": "14",
        "length": "30",
        "case": "",
    }
    assert await bot.check(Submission(actor, place, "hora.create", hora)) == {}
    assert await bot.check(Submission(actor, place, "hora.create", {**hora, "day": "31.02."})) == {
        "day": "«31.02.» er ikke en dato. Skriv for eksempel «fredag», «4.12.» eller «4. desember»."
    }
    # The free-text forms name their field too: an empty statement or an over-long goal is shown there.
    assert await bot.check(Submission(actor, place, "case.start", {"statement": "  "})) == {
        "statement": "Teksten er tom. Skriv noen ord, så tar jeg det med."
    }
    assert await bot.check(Submission(actor, place, "case.start", {"statement": "Garderoben er full"})) == {}
    # A form that does not opt in (the anonymous question: never run twice) is not run at all by a check.
    assert await bot.check(Submission(actor, place, "blindspot.ask", {"question": ""})) == {}
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 0
        assert s.scalar(select(func.count()).select_from(Case)) == 0
