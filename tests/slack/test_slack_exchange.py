"""Module 6's exchange over Slack: the code from one leder's private answer lets another unit join; the
trio's choice is a modal with a checkbox per item (``views.open``); the page reaches the exchange channel
(``chat.postMessage``) only after the other party presses the button in their direct message; a question
asked from the exchange channel comes back as an answer in the page's thread (``thread_ts``)."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from bot.course.models_exchange import ExchangePage
from bot.storage.models import Member, Unit
from bot.toolbox.models import Case
from tests.slack.fakes import CHANNEL, Call, FakeSlack, SlackDriver

SECOND = "C0BLAABAER"
EXCHANGE = "C0UTVEKS"
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")


def _text(call: Call) -> str:
    shown = call.body.get("blocks") or (call.body.get("view") or {}).get("blocks") or []
    return str(call.body.get("text", "")) + "\n" + json.dumps(shown, ensure_ascii=False)


def _button(call: Call, action_id: str) -> str:
    for block in call.body.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} in {_text(call)}")


async def _posts_to(fake: FakeSlack, channel: str, words: str) -> list[Call]:
    return await fake.wait_for(
        "chat.postMessage", where=lambda c: c.body.get("channel") == channel and words in _text(c)
    )


async def _last_view(slack: SlackDriver, mark: int) -> dict[str, Any]:
    await slack.idle()
    opened = [c for c in slack.fake.calls[mark:] if c.method == "views.open" and c.status == 200]
    assert opened, [c.method for c in slack.fake.calls[mark:]]
    view: dict[str, Any] = opened[-1].body["view"]
    return view


async def test_a_page_reaches_the_exchange_channel_only_after_the_other_party_confirms(
    slack: SlackDriver,
) -> None:
    fake = slack.fake
    fake.admins.add("UEVA")
    await slack.command("rolle leder")
    await slack.command("rolle verneombud", user="UOLA")
    await slack.idle()
    await slack.command("rolle bekreft Ola")
    await slack.command("kurs start 2026-12-07 09:00")
    await slack.command("rolle leder", user="UEVA", channel=SECOND)
    await slack.command("kurs start 2026-12-07 09:00", user="UEVA", channel=SECOND)
    await slack.idle()

    mark = len(fake.calls)
    await slack.command("utveksling ny")
    await slack.idle()
    code = CODE.findall("\n".join(_text(c) for c in fake.privates("UKARI", since=mark)))[0]
    await slack.command(f"utveksling bli med {code}", user="UEVA", channel=SECOND)
    await slack.command("utveksling kanal", channel=EXCHANGE)
    await slack.idle()
    with slack.bot.db.transaction() as s:
        unit = s.scalars(select(Unit).where(Unit.channel_id == CHANNEL)).one()
        kari = s.scalars(select(Member).where(Member.user_id == "UKARI")).one()
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

    # Kari (leder) opens the draft and chooses in a modal: one checkbox per item, none ticked.
    mark = len(fake.calls)
    await slack.command("utveksling side")
    await slack.idle()
    [draft] = [c for c in fake.privates("UKARI", since=mark)]
    assert "Beskjeder blir borte" in _text(draft) and "Konflikt om turnus" not in _text(draft)
    page_id = _button(draft, "exchange.choose")
    mark = len(fake.calls)
    await slack.click("exchange.choose", page_id, ephemeral=True)
    view = await _last_view(slack, mark)
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["element"]["type"] for b in inputs] == ["checkboxes"]
    assert not inputs[0]["element"].get("initial_options")
    mark = len(fake.calls)
    response = await slack.submit(view, {"case": "true"})
    assert response.status == 200
    await slack.idle()
    # Ola, the other party, is asked in a direct message; nothing is in the exchange channel yet.
    asked = await fake.wait_for("chat.postMessage", where=lambda c: "exchange.confirm" in _text(c))
    assert asked[-1].body["channel"] == "DOLA"
    await fake.settle()
    assert [
        c
        for c in fake.of("chat.postMessage")
        if c.body.get("channel") == EXCHANGE and "Slik gjorde" in _text(c)
    ] == []
    confirm = _button(asked[-1], "exchange.confirm")
    # Kari, who proposed, cannot confirm her own proposal.
    await slack.click("exchange.confirm", confirm, channel="DKARI")
    await fake.settle()
    with slack.bot.db.transaction() as s:
        assert s.get_one(ExchangePage, int(page_id)).status == "proposed"

    await slack.click("exchange.confirm", confirm, user="UOLA", channel="DOLA")
    [page] = await _posts_to(fake, EXCHANGE, "Slik gjorde vi det")
    assert "Beskjeder blir borte" in _text(page) and "Konflikt om turnus" not in _text(page)
    page_ts = fake.answer_ts(page)

    # Eva asks from the exchange channel; Ola answers from his direct message; the answer is threaded.
    mark = len(fake.calls)
    await slack.click(
        "exchange.ask", _button(page, "exchange.ask"), user="UEVA", channel=EXCHANGE, message_ts=page_ts
    )
    view = await _last_view(slack, mark)
    await slack.submit(view, {"text": "Hvordan fikk dere det til?"}, user="UEVA")
    question = await fake.wait_for(
        "chat.postMessage", where=lambda c: c.body.get("channel") == "DOLA" and "exchange.reply" in _text(c)
    )
    mark = len(fake.calls)
    await slack.click("exchange.reply", _button(question[-1], "exchange.reply"), user="UOLA", channel="DOLA")
    view = await _last_view(slack, mark)
    await slack.submit(view, {"text": "Vi brukte tavla hver morgen."}, user="UOLA")
    [answer] = await _posts_to(fake, EXCHANGE, "Vi brukte tavla hver morgen.")
    assert answer.body.get("thread_ts") == page_ts
    assert "Vi brukte tavla hver morgen." in _text(answer)
