"""A card's signature holds only where the card was sent: its tenant and conversation (SEC-13).

One card key serves every tenant of an installation. The data of a button or form copied from one chat and
submitted in another – another tenant's chat, or the same channel id under another tenant – is refused
before any handler runs: the person hears why in their language, the log says where it came from. Cards
signed before the binding are refused too, with a hint to ask for a fresh one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import pytest

from tests.teams.fakes import (
    KARI,
    Person,
    TeamsDriver,
    card_submit,
    channel_conversation,
    personal_conversation,
    personal_message,
    submit_data,
)
from tests.teams.roles_round import answers, open_round

OTHER_TENANT = "0b6d2c44-9e1f-4a7b-8c3d-5e2f1a0b9c88"
NILS = Person("nils", "Nils Berg")  # works in another municipality's tenant

REFUSED_ELSEWHERE = {
    "nb": "Det kortet hører til en annen samtale og virker bare der. Ingenting ble lagret.",
    "nn": "Det kortet høyrer til ein annan samtale og verkar berre der. Ingenting vart lagra.",
    "en": "That card belongs to another conversation and only works there. Nothing was saved.",
}


def in_tenant(activity: dict[str, Any], tenant: str) -> dict[str, Any]:
    activity["channelData"] = {**activity["channelData"], "tenant": {"id": tenant}}
    activity["conversation"] = {**activity["conversation"], "tenantId": tenant}
    return activity


async def nils_says(teams: TeamsDriver, text: str) -> None:
    activity = in_tenant(personal_message(teams.service_url, NILS, text), OTHER_TENANT)
    assert await teams.send(activity) == 200


@pytest.mark.parametrize("language", ["nb", "nn", "en"])
async def test_a_card_replayed_in_another_tenants_chat_is_refused_in_the_persons_language(
    teams: TeamsDriver, caplog: pytest.LogCaptureFixture, language: str
) -> None:
    head = await open_round(teams)
    await nils_says(teams, f"språk {language}")
    press = card_submit(teams.service_url, NILS, submit_data(head, "Svar"), reply_to="1", personal=True)
    mark = teams.mark()
    with caplog.at_level(logging.WARNING, logger="bot.adapters.teams"):
        assert await teams.send(in_tenant(press, OTHER_TENANT)) == 200

    # No handler ran: no form opened for Nils, nothing stored, the head card untouched.
    assert [(c.method, c.conversation, c.text) for c in teams.since(mark)] == [
        ("POST", NILS.chat, REFUSED_ELSEWHERE[language])
    ]
    assert answers(teams) == 0
    [line] = [r.getMessage() for r in caplog.records if "refused a Teams card submission" in r.getMessage()]
    assert "'roles.answer'" in line and NILS.id in line and f"{OTHER_TENANT}/{NILS.chat}" in line
    assert "another conversation or tenant" in line


async def test_the_same_channel_id_under_another_tenant_is_another_place(teams: TeamsDriver) -> None:
    """The tenant is part of the binding, not only the conversation id."""
    head = await open_round(teams)
    await nils_says(teams, "hei")
    assert head.returned is not None
    press = card_submit(teams.service_url, NILS, submit_data(head, "Svar"), reply_to=head.returned)
    mark = teams.mark()
    assert await teams.send(in_tenant(press, OTHER_TENANT)) == 200
    assert [c.text for c in teams.since(mark)] == [REFUSED_ELSEWHERE["nb"]]
    assert teams.since(mark)[0].conversation == NILS.chat


async def test_an_invoke_from_another_tenant_is_refused_too(teams: TeamsDriver) -> None:
    head = await open_round(teams)
    await nils_says(teams, "hei")
    invoke = card_submit(teams.service_url, NILS, {}, reply_to="1", personal=True)
    invoke.update(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "data": submit_data(head, "Svar")}, "trigger": "manual"},
    )
    mark = teams.mark()
    response = await teams.client.post("/api/messages", json=in_tenant(invoke, OTHER_TENANT))
    await response.read()
    await teams.adapter.drain()
    assert response.status == 200
    assert [(c.conversation, c.text) for c in teams.since(mark)] == [(NILS.chat, REFUSED_ELSEWHERE["nb"])]


async def test_a_channel_card_works_in_every_reply_chain_of_its_channel(teams: TeamsDriver) -> None:
    """Teams names the reply chain in the conversation id (``;messageid=…``); a card is its channel's."""
    head = await open_round(teams)
    data = submit_data(head, "Svar")
    for chain in (head.returned or "", "1700000000999"):
        press = card_submit(teams.service_url, KARI, data, reply_to=head.returned or "", thread=chain)
        assert press["conversation"] == channel_conversation(chain)
        mark = teams.mark()
        assert await teams.send(press) == 200
        [form] = [c for c in teams.since(mark) if c.conversation == KARI.chat]
        assert "Svar om rollen din" in form.text


async def test_a_form_is_accepted_from_its_own_chat_only(teams: TeamsDriver) -> None:
    head = await open_round(teams)
    press = card_submit(teams.service_url, KARI, submit_data(head, "Svar"), reply_to=head.returned or "")
    mark = teams.mark()
    assert await teams.send(press) == 200
    [form] = [c for c in teams.since(mark) if c.conversation == KARI.chat]
    typed = {"f:do": "Jeg går vernerunder.", "f:expect": "", "f:meet": ""}
    data = submit_data(form, "Send")

    # Kari's form data sent from Nils's chat in the other tenant: refused, nothing stored.
    elsewhere = card_submit(teams.service_url, NILS, data, reply_to="1", personal=True, inputs=typed)
    await nils_says(teams, "hei")
    assert await teams.send(in_tenant(elsewhere, OTHER_TENANT)) == 200
    assert answers(teams) == 0

    submit = card_submit(
        teams.service_url, KARI, data, reply_to=form.returned or "", personal=True, inputs=typed
    )
    assert submit["conversation"] == personal_conversation(KARI)
    assert await teams.send(submit) == 200
    assert answers(teams) == 1


def signed_before_binding(secret: bytes, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as cards were signed before the binding: HMAC-SHA256 of the bot-written keys alone."""
    old = {k: v for k, v in data.items() if k not in ("at", "sig")}
    canonical = json.dumps(old, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return {**old, "sig": hmac.new(secret, canonical, hashlib.sha256).hexdigest()[:32]}


async def test_a_card_from_before_the_binding_is_refused_with_a_hint(
    teams: TeamsDriver, caplog: pytest.LogCaptureFixture
) -> None:
    head = await open_round(teams)
    old = signed_before_binding(teams.adapter.references.card_secret(), submit_data(head, "Svar"))
    press = card_submit(teams.service_url, KARI, old, reply_to=head.returned or "")
    mark = teams.mark()
    with caplog.at_level(logging.WARNING, logger="bot.adapters.teams"):
        assert await teams.send(press) == 200
    assert [(c.conversation, c.text) for c in teams.since(mark)] == [
        (
            KARI.chat,
            "Det kortet er fra en eldre utgave av meg, og knappene på det virker ikke lenger. Ingenting ble "
            "lagret. Be om det på nytt, så får du et nytt kort.",
        )
    ]
    assert "card signed before signatures were bound to a place" in caplog.text

    # Changed after signing, an old card is just a changed card.
    tampered = card_submit(teams.service_url, KARI, {**old, "value": "999"}, reply_to=head.returned or "")
    mark = teams.mark()
    assert await teams.send(tampered) == 200
    assert "kortet var endret eller manglet noe" in teams.since(mark)[0].text
