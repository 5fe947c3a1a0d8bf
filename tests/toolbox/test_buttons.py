"""A case run from buttons and forms in the console (issue 13, "fewer commands, more buttons"): the plan's
"Si din mening" form gives a stance with a note, support or a comment, or the decision – through the same
handler and the same access policy as the typed words."""

from __future__ import annotations

from sqlalchemy import select

from bot.toolbox.models import Case
from bot.toolbox.models_plan import Stance
from tests.console_driver import ConsoleDriver, message_number, option_number

# The clock fixture says Tuesday 24 November 2026, 10:30 in Oslo.


async def _plan_ready(console: ConsoleDriver) -> str:
    """A case in the plan step with a goal and an action, so stances can be given; returns the output."""
    await console.start()
    for who in ("Kari leder", "Siri tillitsvalgt", "Per ansatt", "Ola verneombud"):
        await console.type(f"/som {who}")
    out = await console.type("/parts idejakt For mye tid går med til å avklare hvem som gjør hva og hvor")
    thread = message_number(out, "== Sak #1:")
    await console.type(f"/tråd {thread}", "Felles tavle ved inngangen", "/parts plan")
    return await console.type(
        "/parts plan mål Alle vet hvem som gjør hva når dagen starter",
        "/parts plan tiltak Per fredag Lage tavle ved inngangen",
    )


async def test_have_your_say_form_gives_each_role_its_own_choices(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    out = await _plan_ready(console)
    # Siri (tillitsvalgt): a stance. "Uenig" without a reason is asked again at once, the choice kept.
    out = await console.as_("Siri", option_number(console.transcript, "Si din mening"))
    assert "== Si din mening om planen ==" in out
    assert "[1] Enig" in out and "[2] Enig med merknad" in out and "[3] Uenig" in out
    assert "Jeg støtter planen" not in out and "Beslutt planen" not in out
    out = await console.type("uenig", "")
    assert "Skriv hvorfor du er uenig." in out and "» Merknad eller kommentar" in out
    out = await console.type("Tavla alene løser ikke morgenmøtet.")
    assert "⚠️ Siri er uenig i planen (tillitsvalgt): «Tavla alene løser ikke morgenmøtet.»" in out
    # Per (ansatt): support or a comment, never a representative's stance.
    out = await console.as_("Per", option_number(console.transcript, "Si din mening"))
    assert "[1] Jeg støtter planen" in out and "[2] Kommentar" in out and "Uenig" not in out
    out = await console.type("Kommentar", "Fint om vikarene også får vite om tavla.")
    assert "💬 Per kommenterer planen: «Fint om vikarene også får vite om tavla.»" in out
    # Kari (leder) decides from the same form; Ola has not said his word, so she is told whom she waits for.
    out = await console.as_("Kari", option_number(console.transcript, "Si din mening"))
    assert "[1] Beslutt planen" in out
    out = await console.type("1", "")
    assert "Disse har ikke sagt sitt ennå: verneombud Ola." in out
    out = await console.as_("Ola", option_number(console.transcript, "Si din mening"))
    out = await console.type("enig", "")
    assert "✅ Ola er enig i planen (verneombud)." in out
    out = await console.as_("Kari", option_number(console.transcript, "Godkjenn"))
    assert "✅ Kari har besluttet planen." in out
    with database.transaction() as s:
        stances = {(st.role, st.stance, st.note) for st in s.scalars(select(Stance))}
        case = s.get(Case, 1)
    assert case is not None and case.step == "agreed"
    assert stances == {
        ("tillitsvalgt", "uenig", "Tavla alene løser ikke morgenmøtet."),
        ("ansatt", "kommentar", "Fint om vikarene også får vite om tavla."),
        ("verneombud", "enig", ""),
    }


async def test_a_stale_have_your_say_button_names_the_new_version(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    out = await _plan_ready(console)
    stale = option_number(out, "Si din mening")
    await console.as_("Ola", "/parts plan tiltak Siri 1.12. Evaluere ordningen")
    out = await console.as_("Siri", stale)
    assert "Planen er endret siden du så den." in out
    assert "== Si din mening om planen ==" not in out


# --------------------------------------------------------------------------------------------------
# One rule for "which case" (ux.md items 5, 9, 16)
# --------------------------------------------------------------------------------------------------


async def _two_cases(console: ConsoleDriver) -> str:
    await console.start()
    for who in ("Kari leder", "Ola verneombud", "Per ansatt"):
        await console.type(f"/som {who}")
    await console.as_("Kari", "/parts problem Det går for mye tid til å avklare hvem som gjør hva og hvor")
    out = await console.as_("Ola", "/parts idejakt Garderoben er kaotisk om morgenen")
    assert "Gjelder det sak #1 (Definer riktig problem) eller en ny?" in out
    return await console.type(option_number(out, "En ny sak"))


async def test_which_case_one_rule_everywhere(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_(
        "Kari leder", "/parts problem Det går for mye tid til å avklare hvem som gjør hva og hvor"
    )
    # Elsewhere, with one open case, a command that needs a case takes that one ("/parts neste", no "#1").
    out = await console.type("/kanal", "/parts neste")
    assert "Sak #1 har gått videre til steg 2/6 Finn blindsonen." in out
    # A command that can also start something new asks instead of starting a case silently.
    out = await console.type("/parts idejakt Garderoben er kaotisk om morgenen")
    assert "Gjelder det sak #1 (Finn blindsonen) eller en ny?" in out
    assert "== Sak #2" not in out
    # "Sak #1" answers it: the same command runs for case 1 (it jumps to the idea hunt).
    out = await console.type(option_number(out, "Sak #1"))
    assert "*Steg 3: Idéjakt*" in out and "== Sak #2" not in out
    out = await console.type("/parts blindsone Vikarene vet ikke om fordelingen")
    out = await console.type(option_number(out, "En ny sak"))
    assert "== Sak #2: Vikarene vet ikke om fordelingen ==" in out
    # Now with two open cases, "/parts neste" in the channel asks which, with a button for each.
    out = await console.type("/parts neste")
    assert "Hvilken sak gjelder det: sak #2 (Finn blindsonen) eller sak #1 (Idéjakt)?" in out
    out = await console.type(option_number(out, "Sak #2"))
    assert "Sak #2 har gått videre til steg 3/6 Idéjakt." in out
    # In a case's thread it is that case; "1" works like "#1" (case 1 has no ideas to vote on yet).
    thread = message_number(console.transcript, "== Sak #2")
    out = await console.type(f"/tråd {thread}", "Et oppslag ved inngangen", "/parts neste")
    assert "Sak #2 har gått videre til steg 4/6 Stem over idéene." in out
    out = await console.type("/kanal", "/parts neste 1")
    assert "Sak #1 har ingen idéer ennå" in out and "Hvilken sak" not in out
    out = await console.type("/kanal", "/parts sak 2")
    assert "(bare synlig for Kari)" in out and "== Sak #2: Vikarene vet ikke om fordelingen ==" in out
    with database.transaction() as s:
        assert [c.step for c in s.scalars(select(Case).order_by(Case.id))] == ["ideas", "vote"]


async def test_a_choice_button_runs_with_the_pressers_own_rights(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    out = await _two_cases(console)
    assert "== Sak #2: Garderoben er kaotisk om morgenen ==" in out
    # Per (staff, starter of neither) gets the question, but the chosen case still refuses him.
    out = await console.as_("Per", "/parts neste")
    out = await console.type(option_number(out, "Sak #1"))
    assert "Bare den som startet saken, eller leder, verneombud eller tillitsvalgt" in out
    with database.transaction() as s:
        assert s.scalar(select(Case.step).where(Case.id == 1)) == "define"


async def test_anonymous_question_by_dm_with_several_cases_names_them(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await _two_cases(console)
    out = await console.as_("Per", "/dm", "/parts blindsone anonym Hvem bestemmer egentlig?")
    # No button carries an anonymous question around: the person adds the number.
    assert "Hvilken sak gjelder det: sak #2 (Idéjakt) eller sak #1 (Definer riktig problem)?" in out
    assert (
        "`/parts blindsone anonym <saksnummer> <spørsmål>`" in out and "[" not in out.split("Partsbot:")[-1]
    )


# --------------------------------------------------------------------------------------------------
# Ending a case, and a thin statement (ux.md item 5)
# --------------------------------------------------------------------------------------------------


async def test_starter_or_party_ends_a_case_and_nobody_else(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    for who in ("Kari leder", "Ola verneombud", "Per ansatt", "Anne ansatt"):
        await console.type(f"/som {who}")
    out = await console.as_("Per", "/parts problem Vi mangler vikarer på fredager")
    head = message_number(out, "== Sak #1")
    out = await console.as_("Anne", "/parts problem Garderoben er for liten til to grupper")
    # Anne is neither starter of case #1 nor a party: refused by command and by button.
    out = await console.type("/parts sak #1 avslutt")
    assert "Bare den som startet saken, eller leder, verneombud eller tillitsvalgt, kan avslutte" in out
    out = await console.type(option_number(console.transcript.split("== Sak #2")[0], "Avslutt saken"))
    assert "kan avslutte eller trekke den tilbake" in out and "== Avslutt saken ==" not in out
    # Per, who started case #1, withdraws it by command (ux.md: "/parts sak #7 avslutt").
    out = await console.as_("Per", "/parts sak 1 trekk Ble løst på personalmøtet")
    assert "↩️ Per trakk sak #1 tilbake." in out and "Begrunnelse: «Ble løst på personalmøtet»" in out
    assert "Steg: Trukket tilbake" in out and "Sak #1 er trukket tilbake." in out
    # Ola (verneombud) closes case #2 with the head's button and its form; "/parts problem lukk #2" would too.
    out = await console.as_("Ola", option_number(console.transcript, "Avslutt saken"))
    assert "== Avslutt saken ==" in out
    out = await console.type("Avslutt uten plan (løst på en annen måte)", "")
    assert "⏹️ Ola avsluttet sak #2 uten plan." in out
    assert "Sak #1 er allerede avsluttet." in await console.type("/parts problem lukk #1")
    # An ended case takes nothing more: its thread is conversation, its buttons refuse, and it leaves the
    # list of open cases and the "which case?" question.
    out = await console.as_("Per", f"/tråd {head}", "Takk for hjelpen!")
    assert "Partsbot" not in out.split("Takk for hjelpen!")[-1]
    out = await console.type(option_number(console.transcript.split("== Sak #2")[0], "Neste steg"))
    assert "Sak #1 er allerede avsluttet." in out
    out = await console.type("/kanal", "/parts saker")
    assert "Det er ingen åpne saker du kan se." in out
    out = await console.type("/parts idejakt Vi trenger flere idéer til utetida")
    assert "Gjelder det" not in out and "== Sak #3" in out
    with database.transaction() as s:
        ended = {c.id: (c.end_reason, c.closed_at is not None) for c in s.scalars(select(Case))}
    assert ended == {1: ("withdrawn", True), 2: ("closed", True), 3: (None, False)}


async def test_an_ended_vote_is_closed_without_results_and_a_decided_case_cannot_be_withdrawn(
    make_bot, database
) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    out = await _plan_ready(console)
    await console.as_("Ola", "/parts plan godkjenn")
    await console.as_("Siri", "/parts plan godkjenn")
    await console.as_("Kari", "/parts plan beslutt")
    out = await console.type("/parts sak 1 trekk")
    assert "Planen i sak #1 er besluttet, så saken følges opp og kan ikke trekkes tilbake." in out
    # "avslutt" on a decided plan is the follow-up's own close, which waits until the actions are done.
    out = await console.type("/parts sak 1 avslutt")
    assert "Sak #1 har tiltak som ikke er gjort ennå." in out
    out = await console.as_("Kari", "/kanal", "/parts idejakt Hvem rydder lekerommet etter lunsj")
    thread = message_number(out, "== Sak #2")
    await console.type(f"/tråd {thread}", "En fast ryddevakt hver dag", "/parts stemme", "#1")
    out = await console.type("/parts sak avslutt")
    assert "⏹️ Kari avsluttet sak #2 uten plan." in out
    assert "Resultat av prikkstemmingen" not in out
    with database.transaction() as s:
        from bot.toolbox.models_plan import Vote

        vote = s.scalar(select(Vote).where(Vote.case_id == 2))
        assert vote is not None and vote.status == "closed"


async def test_a_one_word_or_emoji_statement_is_questioned_first(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Kari leder", "/parts problem 😡😡")
    assert "Vil du virkelig starte en sak med teksten «😡😡»?" in out
    assert "== Sak #1" not in out
    # "Skriv mer" opens the form with the text in it; "Start saken likevel" starts it as it is.
    out = await console.type(option_number(out, "Skriv mer"))
    assert "== Ny sak ==" in out and "│ 😡😡" in out
    out = await console.type("Foreldre blir sinte når vi ikke svarer på meldinger", "")
    assert "== Sak #1: Foreldre blir sinte når vi ikke svarer på meldinger ==" in out
    out = await console.type("/parts problem Garderoben")
    out = await console.type(option_number(out, "Start saken likevel"))
    assert "== Sak #2: Garderoben ==" in out
    # "/parts sak 2" shows case 2 and "/parts sak 7" is no case "7".
    assert "Jeg finner ingen sak #7" in await console.type("/parts sak 7")
    with database.transaction() as s:
        assert [c.title for c in s.scalars(select(Case).order_by(Case.id))] == [
            "Foreldre blir sinte når vi ikke svarer på meldinger",
            "Garderoben",
        ]


async def test_vote_rules_from_the_head_until_the_first_dot(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    for who in ("Kari leder", "Per ansatt"):
        await console.type(f"/som {who}")
    out = await console.as_("Kari", "/parts idejakt Hvem rydder lekerommet etter lunsj")
    thread = message_number(out, "== Sak #1")
    await console.type(f"/tråd {thread}", "En fast ryddevakt", "Rydde sammen med barna")
    out = await console.type(option_number(console.transcript, "Neste steg"))
    assert "Steg: 4/6 Stem over idéene" in out
    # Per (staff) may vote but not change the rules. (In a voting thread a bare number is a vote, so the
    # buttons are pressed with /velg.)
    out = await console.as_("Per", "/velg " + option_number(console.transcript, "Endre reglene"))
    assert "Bare den som startet saken" in out and "== Regler for avstemmingen ==" not in out
    # Kari changes them in the form: each field is checked as it is given, and what was typed stays.
    out = await console.as_("Kari", "/velg " + option_number(console.transcript, "Endre reglene"))
    assert "== Regler for avstemmingen ==" in out and "Nå: Hver har 3 prikker, maks 2 på samme idé." in out
    out = await console.type("5", "9")
    assert "Maks prikker per idé må være fra 1 til antall prikker" in out and "» Maks prikker" in out
    out = await console.type("1", "31.02.")
    assert "«31.02.» er ikke en dato." in out and "» Frist" in out
    out = await console.type("fredag")
    assert "Nye regler for prikkstemmingen: Hver har 5 prikker, maks 1 på samme idé." in out
    assert "Reglene for avstemmingen i sak #1 er endret." in out
    # After the first dot the button is gone, and an old one is refused.
    stale = option_number(console.transcript, "Endre reglene")
    out = await console.as_("Per", f"/tråd {thread}", "1")
    assert "Endre reglene" not in out.split("(oppdatert)")[-1]
    out = await console.as_("Kari", f"/velg {stale}")
    assert "Noen har allerede stemt, så reglene kan ikke endres nå." in out
    with database.transaction() as s:
        from bot.toolbox.models_plan import Vote

        vote = s.scalar(select(Vote))
        assert vote is not None and (vote.budget, vote.cap) == (5, 1)
