"""Issue 13 in Teams, over Activities to ``/api/messages``: a case run from card buttons and forms (the
plan's "Si din mening" form), a form with a field error drawn again in place with the error at the field
and what was typed kept, the one rule for "which case", ending a case, and a one-word statement questioned
before it becomes a case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.toolbox.models import Case
from bot.toolbox.models_plan import Stance
from tests.teams.fakes import CHANNEL, Call, Person, TeamsDriver
from tests.teams.test_teams_case import form_in_chat, latest, press, text_since

KARI = Person("kari", "Kari")  # leder
OLA = Person("ola", "Ola")  # verneombud
TONE = Person("tone", "Tone")  # tillitsvalgt
PER = Person("per", "Per")
TOPIC = "For mye tid går med til å avklare hvem som gjør hva og hvor."


async def _staffed(teams: TeamsDriver) -> None:
    for person, role in ((KARI, "leder"), (OLA, "verneombud"), (TONE, "tillitsvalgt"), (PER, "ansatt")):
        await teams.say(person, f"rolle {role}")
    await teams.say(KARI, "rolle bekreft alle")


async def _case(teams: TeamsDriver, person: Person = OLA, text: str = f"idejakt {TOPIC}") -> str:
    """A case started by ``person``; returns the id of its head card (the root of its reply chain)."""
    mark = teams.mark()
    await teams.say(person, text)
    head = next(c for c in teams.since(mark) if c.method == "POST" and c.conversation == CHANNEL)
    assert head.returned is not None
    return head.returned


def _input(card: Call, name: str) -> dict[str, Any]:
    return next(e for e in card.cards[0]["body"] if e.get("id") == f"f:{name}")


def _after(card: Call, name: str) -> dict[str, Any]:
    """The element right under the input ``name``."""
    body = card.cards[0]["body"]
    index = next(i for i, e in enumerate(body) if e.get("id") == f"f:{name}")
    return dict(body[index + 1])


async def test_a_form_with_a_field_error_is_drawn_again_with_the_error_at_the_field(
    teams: TeamsDriver,
) -> None:
    await _staffed(teams)
    root = await _case(teams)
    chain = f"{CHANNEL};messageid={root}"
    await teams.say(PER, "Felles tavle ved inngangen", thread=root)
    for line in ("plan", "plan mål Alle vet hvem som gjør hva", "plan tiltak Per fredag Henge opp tavla"):
        await teams.say(OLA, line, thread=root)

    # Tone opens "Si din mening" and sends "Uenig" without saying why.
    mark = teams.mark()
    await press(teams, TONE, latest(teams, root), "Si din mening")
    form = form_in_chat(teams, mark, TONE)
    assert [c["value"] for c in _input(form, "kind")["choices"]] == ["enig", "merknad", "uenig"]
    mark = teams.mark()
    await press(teams, TONE, form, "Send", personal=True, **{"f:kind": "uenig", "f:note": ""})
    # The same card, updated in place: the message under the note field, "Uenig" still chosen; no other
    # message, and nothing stored.
    [redrawn] = teams.since(mark)
    assert redrawn.method == "PUT" and redrawn.activity_id == form.returned
    assert redrawn.conversation == TONE.chat
    assert _input(redrawn, "kind")["value"] == "uenig"
    assert _after(redrawn, "note")["text"] == "Skriv hvorfor du er uenig."
    assert _after(redrawn, "note")["color"] == "attention"
    with teams.bot.db.transaction() as session:
        assert session.scalar(select(Stance)) is None

    # Sent again from the redrawn card (its button is as signed as the first): the stance is taken.
    mark = teams.mark()
    await press(
        teams, TONE, redrawn, "Send", personal=True, **{"f:kind": "uenig", "f:note": "Tavla er ikke nok."}
    )
    assert "⚠️ Tone er uenig i planen (tillitsvalgt): «Tavla er ikke nok.»" in text_since(teams, mark, chain)

    # The free-text forms are checked the same way: a blank remedy is shown under its field, the obstacle
    # that was typed stays in the card, and nothing else is sent.
    mark = teams.mark()
    await press(teams, OLA, latest(teams, root), "Hindring")
    obstacle = form_in_chat(teams, mark, OLA)
    mark = teams.mark()
    await press(teams, OLA, obstacle, "Lagre", personal=True, **{"f:text": "Ingen tid", "f:remedy": " "})
    [redrawn] = teams.since(mark)
    assert redrawn.method == "PUT" and redrawn.activity_id == obstacle.returned
    assert _input(redrawn, "text")["value"] == "Ingen tid"
    assert _after(redrawn, "remedy")["text"] == "Teksten er tom. Skriv noen ord, så tar jeg det med."
    with teams.bot.db.transaction() as session:
        stances = {(s.role, s.stance, s.note) for s in session.scalars(select(Stance))}
        case = session.get(Case, 1)
    assert stances == {("tillitsvalgt", "uenig", "Tavla er ikke nok.")}
    assert case is not None and case.step == "plan"


def _in_chat(teams: TeamsDriver, mark: int, person: Person) -> Call:
    """The last message to ``person``'s personal chat since ``mark`` (Teams' "only you see this")."""
    found = [c for c in teams.since(mark) if c.conversation == person.chat and c.method == "POST"]
    assert found, text_since(teams, mark)
    return found[-1]


async def test_which_case_is_a_short_choice_on_a_card(teams: TeamsDriver) -> None:
    await _staffed(teams)
    await _case(teams, KARI, "problem Det går for mye tid til å avklare hvem som gjør hva og hvor")
    mark = teams.mark()
    await teams.say(OLA, "blindsone Vikarene vet ikke om fordelingen")
    question = _in_chat(teams, mark, OLA)
    assert "Gjelder det sak #1 (Definer riktig problem) eller en ny?" in question.text
    assert not [c for c in teams.since(mark) if c.conversation == CHANNEL]
    mark = teams.mark()
    await press(teams, OLA, question, "En ny sak", personal=True)
    head = next(c for c in teams.since(mark) if c.method == "POST" and c.conversation == CHANNEL)
    assert "Sak #2" in head.text and "Finn blindsonen" in head.text
    # Two open cases: the choice answers "neste"; pressing "Sak #1" moves case 1 on, as Kari.
    mark = teams.mark()
    await teams.say(KARI, "neste")
    question = _in_chat(teams, mark, KARI)
    assert "Hvilken sak gjelder det: sak #2 (Finn blindsonen) eller sak #1 (Definer riktig problem)?" in (
        question.text
    )
    await press(teams, KARI, question, "Sak #1", personal=True)
    # Per (staff) presses the same kind of button: the case's policy refuses him.
    mark = teams.mark()
    await teams.say(PER, "neste")
    await press(teams, PER, _in_chat(teams, mark, PER), "Sak #2", personal=True)
    assert "Bare den som startet saken" in _in_chat(teams, mark, PER).text
    with teams.bot.db.transaction() as session:
        steps = [c.step for c in session.scalars(select(Case).order_by(Case.id))]
    assert steps == ["blindspot", "blindspot"]


async def test_a_case_is_ended_with_the_card_and_refused_to_others(teams: TeamsDriver) -> None:
    await _staffed(teams)
    root = await _case(teams, PER, "problem Vi mangler vikarer på fredager")
    chain = f"{CHANNEL};messageid={root}"
    # Siri (staff who did not start it, and no party) is refused, by command and on the card.
    siri = Person("siri", "Siri")
    await teams.say(siri, "rolle ansatt")
    mark = teams.mark()
    await teams.say(siri, "sak #1 trekk")
    assert "kan avslutte eller trekke den tilbake" in _in_chat(teams, mark, siri).text
    mark = teams.mark()
    await press(teams, siri, latest(teams, root), "Avslutt saken")
    assert not _forms(teams, mark, siri)
    # Per, its starter, withdraws it through the card's form.
    mark = teams.mark()
    await press(teams, PER, latest(teams, root), "Avslutt saken")
    [form] = _forms(teams, mark, PER)
    mark = teams.mark()
    await press(teams, PER, form, "Avslutt saken", personal=True, **{"f:how": "withdrawn", "f:reason": ""})
    assert "↩️ Per trakk sak #1 tilbake." in text_since(teams, mark, chain)
    head = latest(teams, root)
    assert "Trukket tilbake" in head.text and "Neste steg" not in head.text
    with teams.bot.db.transaction() as session:
        case = session.get(Case, 1)
    assert case is not None and case.end_reason == "withdrawn"


def _forms(teams: TeamsDriver, mark: int, person: Person) -> list[Call]:
    return [
        c
        for c in teams.since(mark)
        if c.conversation == person.chat
        and any(str(e.get("type", "")).startswith("Input.") for card in c.cards for e in card["body"])
    ]


async def test_an_emoji_statement_is_questioned_on_a_card(teams: TeamsDriver) -> None:
    await _staffed(teams)
    mark = teams.mark()
    await teams.say(KARI, "problem 😡😡")
    question = _in_chat(teams, mark, KARI)
    assert "Vil du virkelig starte en sak med teksten «😡😡»?" in question.text
    assert not [c for c in teams.since(mark) if c.conversation == CHANNEL]
    mark = teams.mark()
    await press(teams, KARI, question, "Skriv mer", personal=True)
    [form] = _forms(teams, mark, KARI)
    assert _input(form, "statement")["value"] == "😡😡"
    mark = teams.mark()
    await press(
        teams,
        KARI,
        form,
        "Start",
        personal=True,
        **{"f:statement": "Foreldre blir sinte når vi ikke svarer", "f:parties": "false"},
    )
    head = next(c for c in teams.since(mark) if c.method == "POST" and c.conversation == CHANNEL)
    assert "Sak #1: Foreldre blir sinte når vi ikke svarer" in head.text


async def test_the_vote_rules_card_is_redrawn_with_a_wrong_deadline_at_its_field(teams: TeamsDriver) -> None:
    await _staffed(teams)
    root = await _case(teams)
    chain = f"{CHANNEL};messageid={root}"
    await teams.say(PER, "Felles tavle ved inngangen", thread=root)
    await press(teams, OLA, latest(teams, root), "Neste steg")
    mark = teams.mark()
    await press(teams, OLA, latest(teams, root), "Endre reglene")
    [form] = _forms(teams, mark, OLA)
    mark = teams.mark()
    typed = {"f:budget": "5", "f:cap": "2", "f:deadline": "31.02."}
    await press(teams, OLA, form, "Lagre", personal=True, **typed)
    [redrawn] = teams.since(mark)
    assert redrawn.method == "PUT" and redrawn.activity_id == form.returned
    assert _input(redrawn, "deadline")["value"] == "31.02." and _input(redrawn, "budget")["value"] == 5
    assert _after(redrawn, "deadline")["text"].startswith("«31.02.» er ikke en dato.")
    mark = teams.mark()
    await press(teams, OLA, redrawn, "Lagre", personal=True, **{**typed, "f:deadline": "fredag"})
    assert "Nye regler for prikkstemmingen: Hver har 5 prikker" in text_since(teams, mark, chain)
