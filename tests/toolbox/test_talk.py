"""Conversation stays conversation, through the console, with the inputs of the UX review (ux.md §1.2, §1.4,
items 6, 7, 8 and 17): agreement and emoji are not input, what is taken is shown with "Angre", the starter
or a party strikes an entry, ideas typed before the hunt are kept for it, "Ja, og 2" in its natural
spellings links, a built-on idea carries its chain onto the ballot, the result and the plan, and a
"men …" idea stays off the ballot until its author rephrases it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.toolbox.models import CaseVersion, Idea
from bot.toolbox.models_plan import VoteOption
from tests.console_driver import ConsoleDriver, message_number, option_number

SEED = "Det går for mye tid til å avklare hvem som skal gjøre hva og hvor"
CAUSE = "Fordi ingen vet hvem som har ansvaret for å fordele oppgavene når styreren er på møte."


async def seed_case(make_bot) -> tuple[ConsoleDriver, str]:  # type: ignore[no-untyped-def]
    """Kari (leder) starts the seed's case; Ola, Siri, Per, Anne and Jonas have each spoken once."""
    console = ConsoleDriver(make_bot())
    await console.start()
    for who in ("Ola verneombud", "Siri tillitsvalgt", "Per ansatt", "Anne ansatt", "Jonas ansatt"):
        await console.as_(who)
    out = await console.as_("Kari leder", f"/parts problem {SEED}")
    head = message_number(out, f"== Sak #1: {SEED} ==")
    await console.type(
        f"/tråd {head}", "Det er nok et symptom. Vi bruker morgenen på å lete etter hverandre."
    )
    return console, head


def said_by_bot(out: str) -> bool:
    return "Partsbot" in out


async def test_agreement_and_emoji_are_not_answers_and_the_author_sees_what_was_taken(  # type: ignore[no-untyped-def]
    make_bot, database, clock
) -> None:
    console, head = await seed_case(make_bot)
    out = await console.as_("Per", f"/tråd {head}", CAUSE)
    assert "Lagt til som årsak 1 i sak #1." in out
    assert "(bare synlig for Per)" in out and "[" in out and "] Angre" in out
    assert "(hvorfor 2 av 5)" in out
    # ux.md §1.2: "Enig med Per 👍" became "why" number 2. Now none of these is an answer, and the bot
    # says nothing at all.
    for reply in ("Enig med Per 👍", "🎉🎉", "+1", "enig", "bra!", "Helt enig!", "Meg også 🙂"):
        out = await console.as_("Jonas", reply)
        assert not said_by_bot(out), (reply, out)
    with database.transaction() as s:
        answers = list(s.scalars(select(CaseVersion.text).where(CaseVersion.kind.in_(("cause", "why")))))
        assert answers == [CAUSE]
    # A real answer is still an answer – and can be taken back at once by its author.
    out = await console.as_("Jonas", "Fordi vi er for få på jobb før kl. 8.")
    assert "Lagt til som årsak 2 i sak #1." in out
    assert "(hvorfor 3 av 5)" in out
    undo = option_number(out, "Angre")
    out = await console.as_("Per", undo)  # somebody else's "Angre" is refused
    assert "Bare den som skrev det, kan angre det." in out
    out = await console.as_("Jonas", undo)
    assert "Jonas trakk tilbake årsak 2." in out
    assert "Angret: årsak 2 er tatt ut av saken." in out
    # The chain went back one step, so the bot asks the second "why" again.
    assert "Dere skrev: «Fordi ingen vet hvem som har ansvaret" in out and "(hvorfor 2 av 5)" in out
    out = await console.type(undo)
    assert "Det finnes ikke lenger" in out
    # After the undo window only a steerer can take it out.
    out = await console.as_("Anne", "Fordi beskjeder bare gis muntlig.")
    late = option_number(out, "Angre")
    clock.advance(minutes=16)
    out = await console.type(late)
    assert "Det er mer enn 15 minutter siden, så det kan ikke angres lenger." in out
    with database.transaction() as s:
        answers = list(s.scalars(select(CaseVersion.text).where(CaseVersion.kind.in_(("cause", "why")))))
        assert answers == [CAUSE, "Fordi beskjeder bare gis muntlig."]


async def test_the_starter_or_a_party_strikes_an_entry_and_others_are_refused(  # type: ignore[no-untyped-def]
    make_bot, database
) -> None:
    console, head = await seed_case(make_bot)
    await console.as_("Per", f"/tråd {head}", CAUSE)
    await console.as_("Jonas", "Fordi vi ikke har noe bedre å gjøre.")
    out = await console.as_("Anne", "/parts stryk årsak 2")  # staff who did not start the case
    assert "Bare den som startet saken, eller leder, verneombud eller tillitsvalgt, kan stryke noe" in out
    out = await console.as_("Jonas", "/parts stryk årsak 2")  # not even the author, past "Angre"
    assert "kan stryke noe fra saken" in out
    out = await console.as_("Siri", "/parts stryk")  # a party: what can be struck, with the words
    assert "Dette kan strykes i sak #1" in out
    assert "• årsak 2: Fordi vi ikke har noe bedre å gjøre." in out
    out = await console.type("/parts stryk årsak 2")
    assert "Siri strøk årsak 2 fra saken: «Fordi vi ikke har noe bedre å gjøre.»" in out
    assert "Hvorfor? (1 av 5)" in out  # the head's chain without it
    out = await console.type("/parts stryk årsak 2")
    assert "Jeg finner ikke «årsak 2» i saken." in out
    out = await console.as_("Kari", "/parts stryk idé 1")
    assert "Jeg finner ingen idé #1 i denne saken." in out
    out = await console.type("/parts stryk noe rart")
    assert "Skriv hva som skal strykes" in out
    # The history keeps it, marked.
    out = await console.type("/parts problem #1")
    out = await console.type(option_number(out, "Historikk"))
    assert "Fordi vi ikke har noe bedre å gjøre. (strøket)" in out
    with database.transaction() as s:
        struck = s.scalar(
            select(CaseVersion).where(CaseVersion.text == "Fordi vi ikke har noe bedre å gjøre.")
        )
        assert struck is not None and struck.struck_at is not None


async def test_an_idea_typed_before_the_hunt_is_kept_and_shown_when_it_opens(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console, head = await seed_case(make_bot)
    await console.as_("Ola", f"/tråd {head}", "videre")  # skips the whys
    await console.type("Rolige morgener.", "Alle vet hvem som gjør hva.")
    out = await console.type("Vi har ingen fast, synlig fordeling av oppgaver og steder.")
    assert "Takk! Da har dere en problemformulering" in out
    # ux.md §1.2: Anne's idea during step 1 was thrown away.
    out = await console.as_("Anne", "Kan vi ikke bare bruke tavla på personalrommet?")
    assert "Tatt vare på som idé #1 til idéjakten i sak #1." in out
    assert "*Idéer (1)* · tas med når idéjakten starter" in out
    out = await console.type("Dette kjenner jeg meg igjen i.")  # a remark is not an idea
    assert "Sak #1 venter ikke på svar akkurat nå." in out
    out = await console.as_("Per", "Idé: en app for vaktene")
    assert "Tatt vare på som idé #2 til idéjakten" in out
    # In the blind-spot step "Idé: …" is kept too; the step's own questions are not ideas.
    out = await console.as_("Kari", "/parts neste")
    out = await console.as_("Jonas", "Idé: navnelapper på dørene")
    assert "Tatt vare på som idé #3 til idéjakten" in out
    out = await console.as_("Kari", "/parts neste")
    assert "*Idéer som kom før idéjakten:*" in out
    assert "💡 #1 Kan vi ikke bare bruke tavla på personalrommet?" in out
    assert "💡 #2 en app for vaktene" in out
    assert "💡 #3 navnelapper på dørene" in out
    out = await console.as_("Siri", "Ja, og #1 med bilder av de voksne")
    assert "💡 *#4* Siri: med bilder av de voksne" in out and "Bygger på: #4 ← #1" in out


@pytest.mark.parametrize(
    "typed",
    [
        "Ja, og 2 i farger",
        "ja, og nr. 2 i farger",
        "JA! Og #2 i farger",
        "ja og 2 i farger",
        "Ja, og idé 2 i farger",
    ],
)
async def test_yes_and_links_however_it_is_spelled(make_bot, database, typed: str) -> None:  # type: ignore[no-untyped-def]
    console, _ = await hunt(make_bot)
    out = await console.as_("Siri", typed)
    assert "💡 *#3* Siri: i farger" in out
    assert "Bygger på: #3 ← #2 ← #1" in out
    assert "Lagt til som idé #3 (bygger på #2) i sak #1." in out


async def hunt(make_bot) -> tuple[ConsoleDriver, str]:  # type: ignore[no-untyped-def]
    """An idea hunt with ux.md §1.4's first two ideas."""
    console = ConsoleDriver(make_bot())
    await console.start()
    for who in ("Ola verneombud", "Siri tillitsvalgt", "Per ansatt", "Anne ansatt", "Jonas ansatt"):
        await console.as_(who)
    out = await console.as_("Kari leder", f"/parts idejakt {SEED}")
    head = message_number(out, "== Sak #1")
    await console.as_(
        "Anne", f"/tråd {head}", "Ei stor tavle ved inngangen med bilder av de voksne og hvor de er i dag"
    )
    await console.as_("Per", "Ja, og #1 – barna kan flytte bildene sine selv når de går ut")
    return console, head


async def test_the_idea_hunt_with_the_review_inputs_chains_on_the_ballot_and_men_off_it(  # type: ignore[no-untyped-def]
    make_bot, database
) -> None:
    console, _ = await hunt(make_bot)
    out = await console.as_("Siri", "ja og 2 så kan vikarene også se det med en gang")
    assert "💡 *#3* Siri: så kan vikarene også se det med en gang" in out
    assert "Bygger på: #3 ← #2 ← #1" in out
    out = await console.as_("Jonas", "🎉🎉")  # ux.md: became idea #8
    assert not said_by_bot(out)
    # Unsure: "ja, og …" without a number. Kept whole, and the author is asked.
    out = await console.as_("Jonas", "ja, og så kan vi henge den lavt nok for barna")
    assert "💡 *#4* Jonas: ja, og så kan vi henge den lavt nok for barna" in out
    assert "Bygger du videre på #3 «så kan vikarene også se det med en gang»?" in out
    out = await console.type(option_number(out, "Ja, bygg på #3"))
    assert "Idé #4 bygger videre på en annen idé: #4 ← #3 ← #2 ← #1" in out
    # A number that is no idea: part of the text, and asked about.
    out = await console.as_("Anne", "ja og 9 voksne til på morgenen")
    assert "💡 *#5* Anne: ja og 9 voksne til på morgenen" in out and "Bygger du videre på" in out
    # "Nei, men …": kept, the rule privately, off the ballot until rephrased.
    out = await console.as_("Ola", "Nei, men det blir for mye papir på veggen. Hva med en skjerm?")
    assert "💡 *#6* Ola: Nei, men det blir for mye papir på veggen." in out
    assert "Husk regelen i idéjakten: «Ja, og …»" in out
    assert "slik den står, kommer den ikke med i avstemmingen" in out
    assert "(ikke med i avstemmingen før den er skrevet om)" in out
    rephrase = option_number(out, "Skriv om idéen")
    out = await console.as_("Per", rephrase)
    assert "Bare den som skrev idé #6, kan endre den." in out
    out = await console.as_("Kari", "JA! Og #5 – vi roterer ansvarsområdene hver mandag på personalmøtet")
    assert "💡 *#7* Kari: vi roterer ansvarsområdene hver mandag på personalmøtet" in out
    out = await console.as_("Kari", "/parts stemme")
    assert "#7 ← #5 «ja og 9 voksne til på morgenen» + vi roterer ansvarsområdene" in out
    assert (
        "#3 ← #2 ← #1 «Ei stor tavle ved inngangen med bilder av de voksne og hvor…» + så kan vikarene" in out
    )
    with database.transaction() as s:
        positions = list(s.scalars(select(VoteOption.position).order_by(VoteOption.position)))
        assert positions == [1, 2, 3, 4, 5, 7]  # #6 ("Nei, men …") is not on the ballot
    out = await console.as_("Per", "#3 #3 #7")
    out = await console.as_("Kari", "/parts stemme lukk")
    assert "1. #3 ← #2 ← #1 «Ei stor tavle" in out  # the result
    assert "Flest prikker i avstemmingen: #3 ← #2 ← #1 «Ei stor tavle" in out  # the plan's intro


async def test_a_men_idea_goes_on_the_ballot_once_rephrased(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console, _ = await hunt(make_bot)
    out = await console.as_("Ola", "Men det blir for mye papir på veggen.")
    rephrase = option_number(out, "Skriv om idéen")
    out = await console.type(rephrase)
    assert "== Skriv om idé #3 ==" in out
    out = await console.type("Men papir er dumt")  # still blocking: said so, still off the ballot
    assert "Idé #3 begynner fortsatt med «men»" in out
    with database.transaction() as s:
        assert s.scalar(select(Idea.blocking).where(Idea.number == 3)) is True
    out = await console.type(rephrase, "Ja, og #1 en skjerm ved inngangen i stedet for papir")
    assert "Ola skrev om idé #3: «en skjerm ved inngangen i stedet for papir»" in out
    assert "Takk! Idé #3 er med i avstemmingen." in out
    out = await console.as_("Kari", "/parts stemme")
    assert "#3 ← #1 «Ei stor tavle ved inngangen med bilder av de voksne og hvor…» + en skjerm" in out
    with database.transaction() as s:
        positions = list(s.scalars(select(VoteOption.position).order_by(VoteOption.position)))
        assert positions == [1, 2, 3]
