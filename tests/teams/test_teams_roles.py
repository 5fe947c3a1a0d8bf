"""Granted roles and confidential matters over Teams' real entry point: Activities to /api/messages.

The person who adds the app (the conversation update that adds the bot names them) may set up the
unit's leder; nobody else gets a party role by their own word; a confidential matter to the verneombud
reaches only the verneombud's personal chat, and the leader cannot reach it with a command or a replayed
card.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.teams.fakes import (
    AISHA,
    BOT,
    OLA,
    Call,
    Person,
    TeamsDriver,
    _base,
    card_submit,
    channel_conversation,
    submit_data,
)

SIRI = Person("siri", "Siri Dahl")
CONFIDENTIAL = "Jeg blir snakket nedsettende til av en kollega"
_ids = itertools.count(1)


def text_to(teams: TeamsDriver, mark: int, person: Person) -> str:
    return "\n".join(c.text for c in teams.since(mark) if c.conversation == person.chat)


def pressed(teams: TeamsDriver, person: Person, card: Call, title: str) -> dict[str, Any]:
    """``person`` presses ``title`` on ``card`` in their personal chat (whoever the card was sent to)."""
    reply_to = card.returned or ""
    return card_submit(teams.service_url, person, submit_data(card, title), reply_to=reply_to, personal=True)


async def install(teams: TeamsDriver, person: Person) -> None:
    """The conversation update Teams sends when ``person`` adds the app to the team's channel."""
    activity: dict[str, Any] = _base(teams.service_url, person, channel_conversation(f"install-{next(_ids)}"))
    activity.update(type="conversationUpdate", membersAdded=[BOT])
    assert await teams.send(activity) == 200


async def test_the_installer_sets_up_the_leader_and_claims_wait(teams: TeamsDriver) -> None:
    mark = teams.mark()
    await teams.say(AISHA, "rolle leder")
    assert "Leder settes når barnehagen tas i bruk" in text_to(teams, mark, AISHA)
    await teams.say(AISHA, "rolle fjern leder")  # she withdraws the claim …
    await install(teams, AISHA)  # … adds the app to the team …
    mark = teams.mark()
    await teams.say(AISHA, "rolle leder")  # … and may now set up the leder role
    assert "Du er nå leder" in text_to(teams, mark, AISHA)
    mark = teams.mark()
    await teams.say(OLA, "rolle verneombud")
    assert "velges av de ansatte" in text_to(teams, mark, OLA)
    assert "Ola Hansen sier at hen er verneombud" in "\n".join(c.text for c in teams.since(mark))
    # Aisha is asked in her personal chat, with buttons; she confirms on the card.
    [request] = [c for c in teams.since(mark) if c.conversation == AISHA.chat and "Bekreft" in str(c.cards)]
    mark = teams.mark()
    press = card_submit(
        teams.service_url,
        AISHA,
        submit_data(request, "Bekreft"),
        reply_to=request.returned or "",
        personal=True,
    )
    assert await teams.send(press) == 200
    assert "Ola Hansen er nå verneombud" in "\n".join(c.text for c in teams.since(mark))
    # The same card pressed again is gone; its data sent from Ola's own chat is not his card to press.
    mark = teams.mark()
    again = card_submit(
        teams.service_url,
        AISHA,
        submit_data(request, "Bekreft"),
        reply_to=request.returned or "",
        personal=True,
    )
    assert await teams.send(again) == 200
    assert "allerede besvart eller trukket" in text_to(teams, mark, AISHA)
    mark = teams.mark()
    replay = card_submit(
        teams.service_url,
        OLA,
        submit_data(request, "Bekreft"),
        reply_to=request.returned or "",
        personal=True,
    )
    assert await teams.send(replay) == 200
    assert "hører til en annen samtale" in text_to(teams, mark, OLA)


async def test_a_confidential_matter_never_reaches_the_leader(teams: TeamsDriver) -> None:
    await install(teams, AISHA)
    await teams.say(AISHA, "rolle leder")
    await teams.say(OLA, "rolle verneombud")
    await teams.say(AISHA, "rolle bekreft Ola")
    mark = teams.mark()
    await teams.say(SIRI, f"til verneombudet {CONFIDENTIAL}")
    assert CONFIDENTIAL in text_to(teams, mark, OLA)
    assert text_to(teams, mark, AISHA) == ""
    assert all(CONFIDENTIAL not in c.text for c in teams.since(mark) if c.conversation != OLA.chat)
    card = next(c for c in teams.since(mark) if c.conversation == OLA.chat and CONFIDENTIAL in c.text)
    # The leader: a command with the number, the list, and Ola's card replayed as herself.
    mark = teams.mark()
    await teams.say(AISHA, "fortrolig svar 1 Hva gjelder det?")
    await teams.say(AISHA, "fortrolig")
    for title in ("Svar", "Ta opp med partene"):
        # From her own chat the card's signature does not hold: it was sent to Ola's.
        assert await teams.send(pressed(teams, AISHA, card, title)) == 200
        # Forged as a press in Ola's chat (Teams would not send one): the handler refuses her all the same.
        data = submit_data(card, title)
        forged = card_submit(teams.service_url, AISHA, data, reply_to=card.returned or "", chat_of=OLA)
        assert await teams.send(forged) == 200
    said = "\n".join(c.text for c in teams.since(mark))
    assert CONFIDENTIAL not in said
    assert said.count("hører til en annen samtale") == 2
    assert said.count("Jeg finner ingen fortrolig sak") == 3
    assert "Ingen fortrolige saker." in said
    # Ola answers; Siri reads it privately, Aisha does not.
    mark = teams.mark()
    await teams.say(OLA, "fortrolig svar 1 Takk for at du sa fra.")
    assert "Takk for at du sa fra." in text_to(teams, mark, SIRI)
    assert "Takk for at du sa fra." not in text_to(teams, mark, AISHA)
