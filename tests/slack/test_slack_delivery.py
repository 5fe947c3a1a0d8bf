"""Sending within Slack's rules: 429s waited out, outages survived through the outbox, one post a second per
channel, long content split, pictures uploaded, forms without a trigger, channels the bot is not in."""

from __future__ import annotations

import itertools
import logging
import socket
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adapters.slack.installs import TokenSource
from bot.adapters.slack.messenger import SlackMessenger
from bot.chat.messenger import DeliveryError
from bot.chat.model import (
    Block,
    Button,
    Buttons,
    Form,
    FormField,
    Header,
    Image,
    Note,
    Place,
    Reply,
    Text,
)
from bot.storage.models import OutboxItem
from tests.slack.fakes import CHANNEL, TEAM, SlackDriver


def _outbox(slack: SlackDriver) -> list[OutboxItem]:
    with slack.bot.db.transaction() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


async def test_rate_limited_call_is_retried_after_retry_after(slack: SlackDriver) -> None:
    fake = slack.fake
    fake.fail("chat.postEphemeral", status=429, times=1, retry_after=1)
    await slack.command("hjelp")
    [delivered] = await fake.wait_for("chat.postEphemeral")
    [limited] = [c for c in fake.of("chat.postEphemeral", ok_only=False) if c.status == 429]
    # slack_sdk waits Retry-After (plus jitter) before the second try.
    assert delivered.at - limited.at >= 1.0
    await slack.idle()
    assert _outbox(slack) == []


async def test_a_long_retry_after_goes_back_to_the_outbox(slack: SlackDriver) -> None:
    fake = slack.fake
    fake.fail("chat.postEphemeral", status=429, times=1, retry_after=30)
    await slack.command("hjelp")
    await slack.idle()
    [item] = _outbox(slack)
    assert item.attempts == 1
    # Not before Slack said: 30 s from the bot's clock.
    assert (item.next_attempt_at - slack.bot.clock()).total_seconds() >= 30
    slack.bot.clock.advance(seconds=31)  # type: ignore[attr-defined]
    assert await slack.bot.delivery.flush() == 1
    await fake.wait_for("chat.postEphemeral")


async def test_slack_down_keeps_the_answer_in_the_outbox_until_it_is_back(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    fake = slack.fake
    await slack.command("hjelp")  # Slack up: the bot learns who it is (auth.test) and answers
    await fake.wait_for("chat.postEphemeral")

    fake.fail("*", status=500, times=1000)
    with caplog.at_level(logging.WARNING):
        await slack.command("rolle leder")
        await slack.idle()
    failed = [c for c in fake.calls if c.status == 500]
    assert failed, "the bot did not try to send while Slack was down"
    items = _outbox(slack)
    assert len(items) == 2  # the private confirmation and the announcement, in order
    assert all(i.attempts >= 1 for i in items[:1])
    assert "retrying" in caplog.text

    fake.heal()
    slack.bot.clock.advance(minutes=5)  # type: ignore[attr-defined]
    assert await slack.bot.delivery.flush() == 2
    await fake.wait_for("chat.postEphemeral", count=2)
    [announcement] = await fake.wait_for("chat.postMessage")
    assert "Kari" in announcement.body["text"]
    assert _outbox(slack) == []


@pytest.mark.parametrize("post_interval", [1.0])
async def test_posts_to_one_channel_are_paced_to_about_one_a_second(
    slack: SlackDriver, post_interval: float
) -> None:
    messenger = slack.adapter.messenger
    place = Place("slack", TEAM, CHANNEL)
    for n in range(3):
        await messenger.post(place, Reply.text(f"melding {n}"))
    await messenger.post(Place("slack", TEAM, "C0ANNEN"), Reply.text("en annen kanal"))
    posts = slack.fake.of("chat.postMessage")
    same = [c for c in posts if c.body["channel"] == CHANNEL]
    gaps = [b.at - a.at for a, b in itertools.pairwise(same)]
    assert all(gap >= 0.9 for gap in gaps), gaps
    other = next(c for c in posts if c.body["channel"] == "C0ANNEN")
    assert other.at - same[-1].at < 0.5  # another channel does not wait


async def test_long_reply_is_split_within_slacks_limits(slack: SlackDriver) -> None:
    messenger = slack.adapter.messenger
    paragraph = "Vi snakket om hvordan vi fordeler pausene & hvem som <tar> ansvar. " * 60  # ~4000 chars
    blocks: tuple[Block, ...] = (
        Header("Oppsummering " * 20),
        *(Text(paragraph) for _ in range(30)),
        Note("Slutt"),
    )
    ts = await messenger.post(Place("slack", TEAM, CHANNEL), Reply("Oppsummering", blocks))
    posts = slack.fake.of("chat.postMessage")
    assert len(posts) >= 2
    assert slack.fake.answer_ts(posts[0]) == ts
    for post in posts:
        for block in post.body["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
    everything = "".join(slack.fake.texts("chat.postMessage"))
    assert "&lt;tar&gt;" in everything and "<tar>" not in everything  # escaped: no accidental mentions


async def test_many_buttons_with_one_action_id_stay_unique(slack: SlackDriver) -> None:
    messenger = slack.adapter.messenger
    buttons = Buttons(tuple(Button(f"Idé {n}", "vote.add", f"case:1:idea:{n}") for n in range(30)))
    await messenger.post(Place("slack", TEAM, CHANNEL), Reply("Stem", (Text("Stem på idéene"), buttons)))
    [post] = slack.fake.of("chat.postMessage")
    ids = [e["action_id"] for b in post.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == 30 and len(set(ids)) == 30
    # A click on the 30th button still reaches the "vote.add" handler (unknown here: a friendly answer).
    await slack.click(ids[-1], "case:1:idea:29")
    [answer] = await slack.fake.wait_for("chat.postEphemeral")
    assert answer.body["user"] == "UKARI"


async def test_a_picture_is_uploaded_into_the_same_thread(slack: SlackDriver, tmp_path: Path) -> None:
    picture = tmp_path / "trend.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    messenger = slack.adapter.messenger
    reply = Reply(
        "Ukens trend", (Header("Ukens trend"), Image(str(picture), "Trygghet steg fra 3,1 til 3,6"))
    )
    await messenger.post(Place("slack", TEAM, CHANNEL, "1700000000.000009"), reply)
    [complete] = await slack.fake.wait_for("files.completeUploadExternal")
    assert complete.body["channel_id"] == CHANNEL
    assert complete.body["thread_ts"] == "1700000000.000009"
    [upload] = slack.fake.of("upload")
    assert upload.body["size"] == picture.stat().st_size


async def test_direct_message_opens_the_conversation_first(slack: SlackDriver) -> None:
    await slack.adapter.messenger.post_direct(TEAM, "UOLA", Reply.text("Husk ukens sjekk-inn"))
    [opened] = slack.fake.of("conversations.open")
    assert opened.body["users"] == "UOLA"
    [post] = slack.fake.of("chat.postMessage")
    assert post.body["channel"] == "DOLA"


async def test_form_without_a_trigger_is_offered_as_a_button(slack: SlackDriver) -> None:
    form = Form(
        "hora.plan",
        "HØRA-agenda for personalmøtet",
        "Lagre",
        (
            FormField("purpose", "Hensikt", "multiline", max_length=500),
            FormField("kind", "Type", "select", options=()),
        )[:1],
        context="case:7",
        intro="Skriv hensikten med møtet.",
    )
    await slack.adapter.messenger.open_form(Place("slack", TEAM, CHANNEL), "UKARI", form, None)
    [offer] = slack.fake.of("chat.postEphemeral")
    button = next(e for b in offer.body["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert slack.fake.of("views.open") == []

    await slack.click(button["action_id"], button["value"])
    [opened] = await slack.fake.wait_for("views.open")
    assert opened.body["view"]["callback_id"] == "hora.plan"
    assert len(opened.body["view"]["title"]["text"]) <= 24


async def test_an_expired_trigger_falls_back_to_the_button(slack: SlackDriver) -> None:
    slack.fake.fail("views.open", status=200, times=0)  # no fault; expired_trigger is an "ok": false answer
    form = Form("roles.answer", "Svar", "Send", (FormField("do", "Hva gjør jeg?", "multiline"),), "1")
    original = slack.fake.answer

    def expired(method: str, body: dict[str, object], token: str) -> dict[str, object]:
        if method == "views.open":
            return {"ok": False, "error": "expired_trigger_id"}
        return original(method, body, token)

    slack.fake.answer = expired  # type: ignore[method-assign]
    await slack.adapter.messenger.open_form(Place("slack", TEAM, CHANNEL), "UKARI", form, "trigger.old")
    [offer] = slack.fake.of("chat.postEphemeral")
    assert any(b["type"] == "actions" for b in offer.body["blocks"])


async def test_not_in_channel_private_answer_goes_through_the_response_url(slack: SlackDriver) -> None:
    original = slack.fake.answer

    def not_member(method: str, body: dict[str, object], token: str) -> dict[str, object]:
        if method in ("chat.postEphemeral", "chat.postMessage") and body.get("channel") == "C0ELSEWHERE":
            return {"ok": False, "error": "not_in_channel"}
        return original(method, body, token)

    slack.fake.answer = not_member  # type: ignore[method-assign]
    await slack.command("hjelp", channel="C0ELSEWHERE")
    [answer] = await slack.fake.wait_for("response_url")
    assert answer.body["response_type"] == "ephemeral"
    assert "/parts" in str(answer.body)

    # A channel post there cannot happen: the person who asked is told to invite the bot.
    await slack.command("rolle leder", channel="C0ELSEWHERE")
    hints = await slack.fake.wait_for("response_url", count=3)
    assert "/invite" in str(hints[-1].body)
    await slack.idle()
    with slack.bot.db.transaction() as session:
        assert (
            session.scalar(select(func.count()).select_from(OutboxItem)) == 0
        )  # dropped, not retried forever


async def test_unreachable_slack_is_a_retryable_delivery_error(slack: SlackDriver) -> None:
    with socket.socket() as probe:  # a port on this machine that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    messenger = SlackMessenger(
        slack.bot.db, TokenSource(static_token="xoxb-1"), base_url=f"http://127.0.0.1:{port}/api/"
    )
    with pytest.raises(DeliveryError) as caught:
        await messenger.post(Place("slack", TEAM, CHANNEL), Reply.text("hei"))
    assert caught.value.retryable


async def test_refused_request_is_not_retried(slack: SlackDriver) -> None:
    original = slack.fake.answer

    def archived(method: str, body: dict[str, object], token: str) -> dict[str, object]:
        if method == "chat.update":
            return {"ok": False, "error": "message_not_found"}
        return original(method, body, token)

    slack.fake.answer = archived  # type: ignore[method-assign]
    with pytest.raises(DeliveryError) as caught:
        await slack.adapter.messenger.update(Place("slack", TEAM, CHANNEL), "1.2", Reply.text("ny"))
    assert not caught.value.retryable
