"""Module 6's exchange over Teams: the trio's choice is a card with a toggle per item in the personal chat,
the page is posted in the exchange channel's conversation only after the other party's button, and the
answer to a question is posted in the page's reply chain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.storage.models import Member, Unit
from bot.toolbox.models import Case
from tests.teams.fakes import (
    AISHA,
    CHANNEL,
    KARI,
    OLA,
    TeamsDriver,
    card_submit,
    channel_message,
    submit_data,
)

EXCHANGE = "19:utveksling@thread.tacv2"


def in_exchange_channel(activity: dict[str, Any]) -> dict[str, Any]:
    """The same message typed in another channel of the team (the exchange channel)."""
    thread = activity["id"]
    activity["conversation"]["id"] = f"{EXCHANGE};messageid={thread}"
    activity["channelData"].update(teamsChannelId=EXCHANGE, channel={"id": EXCHANGE})
    return activity


async def test_the_page_is_posted_in_the_exchange_channel_after_the_other_party_presses(
    teams: TeamsDriver,
) -> None:
    connector = teams.connector
    await teams.say(KARI, "rolle leder")
    await teams.say(OLA, "rolle verneombud")
    await teams.say(KARI, "rolle bekreft Ola")
    await teams.say(AISHA, "hjelp")
    await teams.say(KARI, "kurs start 2026-12-07 09:00")
    await teams.say(KARI, "utveksling ny")
    assert (
        await teams.send(in_exchange_channel(channel_message(teams.service_url, KARI, "utveksling kanal")))
        == 200
    )
    assert "Denne kanalen er nå utvekslingskanalen." in connector.posts_to(EXCHANGE)[-1].text
    with teams.bot.db.transaction() as s:
        unit = s.scalars(select(Unit).where(Unit.channel_id == CHANNEL)).one()
        kari = s.scalars(select(Member).where(Member.user_id == KARI.id)).one()
        s.add(
            Case(
                unit_id=unit.id,
                title="Beskjeder blir borte",
                statement="Mellom vaktene.",
                started_by_id=kari.id,
            )
        )
        s.add(
            Case(
                unit_id=unit.id,
                title="Konflikt om turnus",
                statement="Bare for partene.",
                started_by_id=kari.id,
                parties_only=True,
            )
        )

    # Ola (verneombud) opens the draft and chooses in a card: one toggle per item, off.
    mark = teams.mark()
    await teams.say(OLA, "utveksling side")
    [draft] = [c for c in teams.since(mark) if c.conversation == OLA.chat]
    assert "Beskjeder blir borte" in draft.text and "Konflikt om turnus" not in draft.text
    press = card_submit(
        teams.service_url,
        OLA,
        submit_data(draft, "Velg hva vi deler"),
        reply_to=draft.returned or "",
        personal=True,
    )
    mark = teams.mark()
    assert await teams.send(press) == 200
    [form] = [c for c in teams.since(mark) if c.conversation == OLA.chat]
    [card] = form.cards
    toggles = [e for e in card["body"] if e["type"] == "Input.Toggle"]
    assert [t["id"] for t in toggles] == ["f:case"] and toggles[0]["value"] == "false"
    submit = card_submit(
        teams.service_url,
        OLA,
        submit_data(form, "Send til godkjenning"),
        reply_to=form.returned or "",
        personal=True,
        inputs={"f:case": "true"},
    )
    mark = teams.mark()
    assert await teams.send(submit) == 200
    # Kari (leder), the other party, is asked; the exchange channel has nothing yet.
    [request] = [
        c for c in teams.since(mark) if c.conversation == KARI.chat and "Godkjenn og del" in str(c.cards)
    ]
    assert [c for c in connector.posts_to(EXCHANGE) if "Slik gjorde vi det" in c.text] == []
    approve = card_submit(
        teams.service_url,
        KARI,
        submit_data(request, "Godkjenn og del"),
        reply_to=request.returned or "",
        personal=True,
    )
    assert await teams.send(approve) == 200
    [page] = [c for c in connector.posts_to(EXCHANGE) if "Slik gjorde vi det" in c.text]
    assert "Beskjeder blir borte" in page.text and "Konflikt om turnus" not in page.text

    # Aisha asks from the exchange channel; Ola answers; the answer goes into the page's reply chain.
    ask = card_submit(
        teams.service_url, AISHA, submit_data(page, "Still et spørsmål"), reply_to=page.returned or ""
    )
    in_exchange_channel(ask)
    mark = teams.mark()
    assert await teams.send(ask) == 200
    [form] = [c for c in teams.since(mark) if c.conversation == AISHA.chat]
    question = card_submit(
        teams.service_url,
        AISHA,
        submit_data(form, "Send"),
        reply_to=form.returned or "",
        personal=True,
        inputs={"f:text": "Hvordan fikk dere det til?"},
    )
    mark = teams.mark()
    assert await teams.send(question) == 200
    [asked] = [c for c in teams.since(mark) if c.conversation == OLA.chat]
    press = card_submit(
        teams.service_url, OLA, submit_data(asked, "Svar"), reply_to=asked.returned or "", personal=True
    )
    mark = teams.mark()
    assert await teams.send(press) == 200
    [form] = [c for c in teams.since(mark) if c.conversation == OLA.chat]
    answer = card_submit(
        teams.service_url,
        OLA,
        submit_data(form, "Send"),
        reply_to=form.returned or "",
        personal=True,
        inputs={"f:text": "Vi brukte tavla hver morgen."},
    )
    assert await teams.send(answer) == 200
    [reply] = [
        c
        for c in connector.delivered()
        if "Vi brukte tavla hver morgen." in c.text and c.conversation != OLA.chat
    ]
    assert reply.conversation == f"{EXCHANGE};messageid={page.returned}"
    connector.assert_cards_valid()
