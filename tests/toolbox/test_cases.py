"""Problem threads through the console chat: the whole path define → blind spot → idea hunt, the why
chain and refinements, who may move a case on, parties-only cases, and bad input."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.chat.model import Actor, Command, OpenForm, Place
from bot.storage.models import Member
from bot.toolbox.cases import case_history
from bot.toolbox.models import Case, CaseParticipant, CaseVersion, Idea, Question
from tests.console_driver import ConsoleDriver, message_number, option_number

SEED = "Det går bort mye tid på å avklare hvem som skal gjøre hva og hvor."


async def staffed(make_bot) -> ConsoleDriver:  # type: ignore[no-untyped-def]
    """Solsikken with the trio and two staff, each having spoken once in the channel."""
    console = ConsoleDriver(make_bot())
    await console.start()
    for name, role in (("Kari", "leder"), ("Ola", "verneombud"), ("Tone", "tillitsvalgt")):
        await console.as_(f"{name} {role}")
    await console.as_("Siri ansatt")
    await console.as_("Per ansatt")
    console.take()
    return console


async def test_whole_path_with_why_chain_refinements_and_steps(make_bot, database, clock) -> None:  # type: ignore[no-untyped-def]
    console = await staffed(make_bot)
    out = await console.as_("Ola", f"/parts problem {SEED}")
    assert f"== Sak #1: {SEED} ==" in out
    assert "Startet av: Ola (verneombud)" in out
    assert "Steg: 1/6 Definer riktig problem" in out
    assert "Er dette et *symptom* eller selve *problemet*: «Det går bort mye tid" in out
    assert "Sak #1 er startet." in out
    head = message_number(out, "== Sak #1")

    # Staff answer in the thread; the bot asks "why?" again and keeps the chain.
    out = await console.as_("Siri", f"/tråd {head}", "Et symptom. Morgenmøtet går med til beskjeder.")
    assert "Hva er *årsaken*? Hvorfor skjer dette? (hvorfor 1 av 5)" in out
    out = await console.type("Det finnes ingen skriftlig dagsplan.")
    assert "Dere skrev: «Det finnes ingen skriftlig dagsplan». *Hvorfor* er det slik? (hvorfor 2 av 5)" in out
    out = await console.as_("Per", "Planen lages muntlig i garderoben.")
    assert "(hvorfor 3 av 5)" in out
    for answer in ("Vi har ikke tid om morgenen.", "Vaktene begynner til ulik tid."):
        out = await console.type(answer)
    assert "(hvorfor 5 av 5)" in out
    out = await console.type("Ingen har fått ansvaret for planen.")  # the fifth why: the chain is full
    assert "Hvilken *effekt* ønsker dere?" in out
    assert "*Hvorfor? (5 av 5)*" in out
    out = await console.type("Mer tid sammen med barna.")
    assert "*Hvordan ønsker vi at det skal være?*" in out
    out = await console.type("Alle vet hva de skal gjøre når de kommer på jobb.")
    assert "hvordan vil dere formulere *problemet* nå?" in out
    sharper = "Vi mangler en skriftlig dagsplan, så oppgaver avklares muntlig hele morgenen."
    out = await console.type(sharper)
    assert f"Per presiserte problemet (versjon 2): «{sharper}»" in out
    assert "Takk! Da har dere en problemformulering – foreløpig." in out
    assert f"*Problemet nå:* {sharper}" in out
    assert f"v1: {SEED}" in out  # the earlier wording stays on the head

    # More messages in the define step have no question to answer: agreement is left alone, anything
    # else gets a hint; nothing is stored.
    out = await console.type("Enig!")
    assert "Partsbot" not in out
    out = await console.type("Dette kjenner jeg meg igjen i.")
    assert "Sak #1 venter ikke på svar akkurat nå." in out

    # The leader sharpens it again by command; the history lists every version.
    third = "Oppgavene avklares muntlig fordi ingen eier dagsplanen."
    out = await console.as_("Kari", f"/parts problem presiser {third}")
    assert f"Kari presiserte problemet (versjon 3): «{third}»" in out
    assert "Tidligere formuleringer (2):" in out
    await console.type("/kanal")
    out = await console.type(option_number(out, "Historikk"))
    assert "== Historikk for sak #1 ==" in out
    assert f"v1 · Problem · Ola · 24.11.2026: {SEED}" in out
    assert "· Årsak · Siri ·" in out and "· Hvorfor · Per ·" in out

    # Staff may not close the step; the case owner may. A second click on the old button changes nothing.
    out = await console.as_("Siri", f"/tråd {head}", "/parts neste")
    assert "Bare den som startet saken, eller leder, verneombud eller tillitsvalgt, kan styre saken" in out
    out = await console.as_("Ola", "/kanal", "/parts problem #1")
    next_button = option_number(out, "Neste steg")
    out = await console.type(next_button)
    assert "*Steg 2: Finn blindsonen.*" in out
    assert "Steg: 2/6 Finn blindsonen" in out
    out = await console.type(next_button)
    assert "Saken har allerede gått videre til steg 2/6 Finn blindsonen, så jeg lot den være." in out

    # Blind spot: a named question in the thread, then the idea hunt with a chain.
    out = await console.as_("Per", f"/tråd {head}", "Hvem har egentlig ansvaret for dagsplanen i dag?")
    assert "Lagt til som spørsmål 1 i sak #1." in out
    assert "Blindsonen: 1 spørsmål, 0 av dem anonyme." in out
    out = await console.as_("Tone", "/parts neste")
    assert "*Steg 3: Idéjakt* – til og med torsdag 26.11.2026." in out
    out = await console.as_("Siri", "En tavle i garderoben med dagens oppgaver.")
    assert "💡 *#1* Siri: En tavle i garderoben med dagens oppgaver." in out
    out = await console.as_("Kari", "Ja, og #1 med bilder, så barna også ser den.")
    assert "💡 *#2* Kari: med bilder, så barna også ser den." in out
    assert "Bygger på: #2 ← #1" in out

    with database.transaction() as s:
        kinds = list(s.scalars(select(CaseVersion.kind).order_by(CaseVersion.n)))
        assert kinds == ["statement", "symptom", "cause", "why", "why", "why", "why", "effect", "wish",
                         "statement", "statement"]  # fmt: skip
        case = s.scalar(select(Case))
        assert case is not None and case.step == "ideas" and case.statement == third
        assert case.starter_roles == "verneombud"
        people = set(
            s.scalars(
                select(Member.display_name).join(CaseParticipant, CaseParticipant.member_id == Member.id)
            )
        )
        assert people == {"Ola", "Siri", "Per", "Kari"}
        history = case_history(s, case.id)
    assert [v["kind"] for v in history["versions"]][-1] == "statement"
    assert history["questions"][0]["author"] == "Per"
    assert [(i["number"], i["builds_on"]) for i in history["ideas"]] == [(1, None), (2, 1)]


async def test_parties_only_case_is_invisible_to_staff(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = await staffed(make_bot)
    out = await console.as_("Ola", "/parts problem --parter To ansatte har en konflikt som påvirker alle.")
    assert "er bare synlig for partene" in out
    for name in ("Kari", "Ola", "Tone"):
        assert f"[direktemelding til {name}] Partsbot:" in out
    assert "direktemelding til Siri" not in out and "direktemelding til Per" not in out
    assert "#personalet" not in out.split("/parts problem --parter", 1)[1].split("Partsbot:", 1)[0]
    assert "Synlig for: bare partene" in out

    # Staff: not listed, not shown, cannot act on it in any way – and it looks like no case at all.
    out = await console.as_("Siri", "/parts saker")
    assert "Det er ingen åpne saker du kan se." in out
    for line in (
        "/parts problem #1",
        "/parts neste #1",
        "/parts problem presiser #1 Noe annet",
        "/parts blindsone spør #1 Hva skjedde?",
        "/parts idejakt frist #1 2026-12-10",
    ):
        out = await console.type(line)
        assert "Jeg finner ingen sak #1 som du har tilgang til." in out, line
    out = await console.type("/dm", "/parts blindsone anonym 1 Hvem er det snakk om?")
    assert "Jeg finner ingen sak #1 som du har tilgang til." in out

    # The trio sees it and steers it; messages go to them directly.
    out = await console.as_("Tone", "/kanal", "/parts saker")
    assert "#1 To ansatte har en konflikt som påvirker alle. – 1/6 Definer riktig problem" in out
    out = await console.type("/parts neste #1")
    assert "[direktemelding til Kari]" in out and "*Steg 2: Finn blindsonen.*" in out
    assert "direktemelding til Siri" not in out

    # A form with the checkbox does the same.
    out = await console.as_("Kari", "/parts problem")
    assert "== Ny sak ==" in out
    out = await console.type("Sykefraværet på avdeling Blåbær øker.", "ja")
    # Numbered without a gap on PostgreSQL too: a form's check (Partsbot.check) stops before inserting.
    assert "Sak #2 er startet og er bare synlig for partene: leder, verneombud og tillitsvalgt" in out
    with database.transaction() as s:
        assert list(s.scalars(select(Case.parties_only).order_by(Case.id))) == [True, True]
        assert s.scalar(select(func.count()).select_from(Question)) == 0


async def test_bad_input_gets_clear_answers_and_stores_nothing(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = await staffed(make_bot)
    out = await console.as_("Siri", "/parts problem " + "x" * 2001)
    assert "Teksten er for lang (2001 tegn). Maks er 2000 tegn" in out
    out = await console.type("/parts neste")
    assert "Hvilken sak gjelder det? Skriv kommandoen i sakens tråd" in out
    out = await console.type("/parts neste #42")
    assert "Jeg finner ingen sak #42 som du har tilgang til." in out
    out = await console.type(f"/parts problem {SEED}")
    head = message_number(out, "== Sak #1")
    out = await console.type(f"/parts problem {SEED}")  # sent twice: one case
    assert "Du startet nettopp sak #1 med samme tekst." in out
    # Steps not reached yet, or already passed.
    out = await console.type("/parts blindsone spør #1 Hvorfor?")
    assert "Sak #1 er i steget «Definer riktig problem» nå, så det går ikke ennå." in out
    out = await console.type("/parts idejakt idé #1 En tavle")  # kept for the idea hunt, undone at once
    assert "Tatt vare på som idé #1 til idéjakten i sak #1." in out
    out = await console.type(option_number(out, "Angre"))
    assert "Angret: idé #1 er tatt ut av saken." in out
    out = await console.as_("Per", f"/tråd {head}", "/parts problem presiser")
    assert "== Presiser problemet ==" in out
    await console.type("/avbryt")
    out = await console.as_("Siri", "/parts neste", "/parts neste")
    assert "Sak #1 har gått videre til steg 3/6 Idéjakt." in out
    out = await console.type("/parts idejakt idé", "ja, og #1")
    assert out.count("Teksten er tom.") == 2
    out = await console.type("/parts problem presiser Noe helt annet")
    assert "Sak #1 er i idéjakten nå, så det går ikke." in out
    out = await console.type("/parts blindsone spør Et spørsmål for sent")
    assert "Sak #1 er i idéjakten nå, så det går ikke." in out
    out = await console.type("/parts blindsone")
    assert "Sak #1 er i idéjakten nå, så det går ikke." in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
        assert s.scalar(select(func.count()).select_from(CaseVersion)) == 1
        assert s.scalar(select(func.count()).select_from(Idea)) == 0


async def test_message_shortcut_prefills_the_form(make_bot) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await console.type("/parts rolle verneombud")
    place = Place("console", "console", "personalet")
    effects = await bot.handle(
        Command(Actor("u-kari", "Kari"), place, "problem", "", trigger_id="t-1", source_text=SEED)
    )
    forms = [e for e in effects if isinstance(e, OpenForm)]
    assert len(forms) == 1 and forms[0].form.form_id == "case.start"
    assert forms[0].form.fields[0].initial == SEED
    assert forms[0].trigger_id == "t-1"


async def test_case_messages_speak_the_units_language_and_answers_the_persons(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Ola verneombud", "/parts språk enhet nn")
    out = await console.as_("Per", "/parts språk en", f"/parts problem {SEED}")
    assert "Steg: 1/6 Definer rett problem" in out  # the head and thread: the unit's nynorsk
    assert "eit *symptom* eller sjølve *problemet*: «" in out
    assert "Case #1 has started. Follow the thread in the channel." in out  # Per's own receipt: English
    out = await console.type("/parts hjelp")
    assert "`/parts problem` – start a case" in out
    assert "`/parts blindspot` – find the blind spot" in out
    assert "`/parts ideas` – idea hunt" in out
