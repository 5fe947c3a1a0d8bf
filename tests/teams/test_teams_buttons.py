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

    # A form that does not opt in to checks still answers privately, as before (and is not redrawn).
    mark = teams.mark()
    await press(teams, OLA, latest(teams, root), "Hindring")
    obstacle = form_in_chat(teams, mark, OLA)
    mark = teams.mark()
    await press(teams, OLA, obstacle, "Lagre", personal=True, **{"f:text": "Ingen tid", "f:remedy": " "})
    assert not [c for c in teams.since(mark) if c.method == "PUT"]
    assert "Teksten er tom." in text_since(teams, mark, OLA.chat)
    with teams.bot.db.transaction() as session:
        stances = {(s.role, s.stance, s.note) for s in session.scalars(select(Stance))}
        case = session.get(Case, 1)
    assert stances == {("tillitsvalgt", "uenig", "Tavla er ikke nok.")}
    assert case is not None and case.step == "plan"
