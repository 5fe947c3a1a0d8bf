"""Sending within Slack's rules: 429s waited out, outages survived through the outbox, a short burst then one
post a second per channel (on a clock the test moves) while private answers go at once, long content split,
pictures uploaded, forms without a trigger, channels the bot is not in."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adapters.slack.client import CHANNEL_BURST
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
from tests.slack.conftest import ManualTime
from tests.slack.fakes import CHANNEL, TEAM, Call, SlackDriver


def _outbox(slack: SlackDriver) -> list[OutboxItem]:
    with slack.bot.db.transaction() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


async def test_rate_limited_call_is_retried_after_retry_after(slack: SlackDriver) -> None:
    fake = slack.fake
    fake.fail("chat.postMessage", status=429, times=1, retry_after=1)
    await slack.command("rolle leder")
    [delivered] = await fake.wait_for("chat.postMessage")
    [limited] = [c for c in fake.of("chat.postMessage", ok_only=False) if c.status == 429]
    # slack_sdk waits Retry-After (plus jitter) before the second try.
    assert delivered.at - limited.at >= 1.0
    await slack.idle()
    assert _outbox(slack) == []


async def test_a_long_retry_after_goes_back_to_the_outbox(slack: SlackDriver) -> None:
    fake = slack.fake
    fake.fail("chat.postMessage", status=429, times=1, retry_after=30)
    await slack.command("rolle leder")
    await fake.wait_for_private()  # the private confirmation is not held up by the channel's 429
    await slack.idle()
    [item] = _outbox(slack)
    assert item.attempts == 1
    # Not before Slack said: 30 s from the bot's clock.
    assert (item.next_attempt_at - slack.bot.clock()).total_seconds() >= 30
    slack.bot.clock.advance(seconds=31)  # type: ignore[attr-defined]
    assert await slack.bot.delivery.flush() == 1
    await fake.wait_for("chat.postMessage")


async def test_slack_down_keeps_the_answer_in_the_outbox_until_it_is_back(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    fake = slack.fake
    await slack.command("hjelp")  # Slack up: the bot learns who it is (auth.test) and answers
    await fake.wait_for_private()

    fake.fail("*", status=500, times=1000)
    with caplog.at_level(logging.WARNING):
        await slack.command("rolle leder")
        await slack.idle()
    failed = [c for c in fake.calls if c.status == 500]
    assert failed, "the bot did not try to send while Slack was down"
    # The private confirmation went in the command's ack (no Web API involved); the announcement waits.
    [_help, confirmation] = fake.privates()
    assert confirmation.method == "ack" and "leder" in str(confirmation.body).lower()
    [item] = _outbox(slack)
    assert item.attempts >= 1
    assert "retrying" in caplog.text

    fake.heal()
    slack.bot.clock.advance(minutes=5)  # type: ignore[attr-defined]
    assert await slack.bot.delivery.flush() == 1
    [announcement] = await fake.wait_for("chat.postMessage")
    assert "Kari" in announcement.body["text"]
    assert _outbox(slack) == []


async def _posts_reach(slack: SlackDriver, count: int, channel: str = CHANNEL) -> list[Call]:
    return await slack.fake.wait_for("chat.postMessage", count, where=lambda c: c.body["channel"] == channel)


def _posts_in(slack: SlackDriver, channel: str = CHANNEL) -> list[Call]:
    return [c for c in slack.fake.of("chat.postMessage") if c.body["channel"] == channel]


async def test_posts_to_one_channel_keep_slacks_pace_and_other_channels_do_not_wait(
    slack: SlackDriver, manual_time: ManualTime
) -> None:
    messenger = slack.adapter.messenger
    place = Place("slack", TEAM, CHANNEL)
    sends = [asyncio.create_task(messenger.post(place, Reply.text(f"melding {n}"))) for n in range(6)]
    await _posts_reach(slack, CHANNEL_BURST)  # a short burst goes at once
    # Another channel does not wait: the clock has not moved, and it is posted.
    await messenger.post(Place("slack", TEAM, "C0ANNEN"), Reply.text("en annen kanal"))
    assert len(_posts_in(slack, "C0ANNEN")) == 1
    assert len(_posts_in(slack)) == CHANNEL_BURST  # the rest wait for the clock
    for second in range(1, 6 - CHANNEL_BURST + 1):
        manual_time.advance(1.0)
        await _posts_reach(slack, CHANNEL_BURST + second)
        assert len(_posts_in(slack)) == CHANNEL_BURST + second  # one more a second, never more
    await asyncio.gather(*sends)
    assert [c.body["text"] for c in _posts_in(slack)] == [f"melding {n}" for n in range(6)]


async def test_a_retry_after_holds_the_channel_until_then(
    slack: SlackDriver, manual_time: ManualTime
) -> None:
    slack.fake.fail("chat.postMessage", status=429, times=1, retry_after=30)
    place = Place("slack", TEAM, CHANNEL)
    with pytest.raises(DeliveryError):
        await slack.adapter.messenger.post(place, Reply.text("for tidlig"))
    sending = asyncio.create_task(slack.adapter.messenger.post(place, Reply.text("etterpå")))
    manual_time.advance(29.0)
    await asyncio.sleep(0)
    assert _posts_in(slack) == [] and not sending.done()
    manual_time.advance(1.0)
    await sending
    assert [c.body["text"] for c in _posts_in(slack)] == ["etterpå"]


async def test_a_burst_in_one_channel_is_answered_privately_at_once_and_posted_at_slacks_pace(
    slack: SlackDriver, manual_time: ManualTime
) -> None:
    """20 people ask for a role at once: each answer is private and immediate; the 20 announcements in the
    channel go out a short burst first, then one a second – never faster."""
    people = [f"U{n:03d}" for n in range(20)]
    responses = await asyncio.gather(*(slack.command("rolle verneombud", user=p) for p in people))
    assert {r.status for r in responses} == {200}
    answers = await slack.fake.wait_for_private(count=20)
    assert sorted(a.user for a in answers) == people
    assert manual_time.now == 0.0  # nobody's answer waited for the channel's pace
    await _posts_reach(slack, CHANNEL_BURST)
    assert len(_posts_in(slack)) == CHANNEL_BURST
    for second in range(1, 20 - CHANNEL_BURST + 1):
        manual_time.advance(1.0)
        await _posts_reach(slack, CHANNEL_BURST + second)
        assert len(_posts_in(slack)) == CHANNEL_BURST + second
    await slack.idle()
    assert len(slack.fake.privates()) == 20 and _outbox(slack) == []


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
    # A command's own answer is its ack, which Slack shows wherever the command was typed.
    await slack.command("hjelp", channel="C0ELSEWHERE")
    [answer] = slack.fake.privates()
    assert answer.method == "ack" and answer.body["response_type"] == "ephemeral"
    assert "/parts" in str(answer.body)

    # A channel post there cannot happen: the person who asked is told to invite the bot, through the
    # command's response_url (an ephemeral message there would be refused too).
    await slack.command("rolle leder", channel="C0ELSEWHERE")
    hints = await slack.fake.wait_for("response_url")
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
