"""What Slack's rules demand of the request side: signatures, stale timestamps, retried events, unknown
workspaces."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bot.adapters.slack.models import SlackEventSeen
from bot.storage.models import Member, Organisation, OutboxItem, RolesAnswer
from tests.slack.fakes import CHANNEL, SlackDriver


def _count(slack: SlackDriver, model: type) -> int:
    with slack.bot.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _nothing_stored(slack: SlackDriver) -> None:
    for model in (Organisation, Member, OutboxItem, SlackEventSeen):
        assert _count(slack, model) == 0, model.__name__


async def test_forged_signature_is_refused_and_nothing_is_stored(slack: SlackDriver) -> None:
    body = "team_id=T0KINDER&channel_id=C0BJORNE&user_id=UKARI&command=%2Fparts&text=rolle+leder"
    response = await slack.send(body, "application/x-www-form-urlencoded", secret="not-the-secret")
    assert response.status == 401
    event = slack.event_body(
        {
            "type": "message",
            "channel": CHANNEL,
            "user": "UKARI",
            "text": "hei",
            "ts": "1.2",
            "thread_ts": "1.1",
        }
    )
    response = await slack.send(event, "application/json", secret="not-the-secret")
    assert response.status == 401
    await slack.fake.settle()
    assert [c.method for c in slack.fake.calls] == []
    _nothing_stored(slack)


async def test_missing_signature_is_refused(slack: SlackDriver) -> None:
    body = "team_id=T0KINDER&channel_id=C0BJORNE&user_id=UKARI&command=%2Fparts&text=hjelp"
    response = await slack.client.post(
        "/slack/events", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status == 401
    _nothing_stored(slack)


async def test_stale_timestamp_is_refused_even_with_a_valid_signature(slack: SlackDriver) -> None:
    stale = int(time.time()) - 301
    body = "team_id=T0KINDER&channel_id=C0BJORNE&user_id=UKARI&command=%2Fparts&text=rolle+leder"
    response = await slack.send(body, "application/x-www-form-urlencoded", ts=stale)
    assert response.status == 401
    await slack.fake.settle()
    assert slack.fake.calls == []
    _nothing_stored(slack)


async def test_a_retried_event_is_handled_once(slack: SlackDriver) -> None:
    fake = slack.fake
    await slack.command("rolle leder")
    await slack.command("roller")
    posts = await fake.wait_for("chat.postMessage", count=6)
    head_ts = fake.answer_ts(posts[1])

    event = {
        "type": "message",
        "channel": CHANNEL,
        "user": "UKARI",
        "text": "Jeg tar ansvar for planen.",
        "ts": "1700000500.000001",
        "thread_ts": head_ts,
        "channel_type": "channel",
    }
    first = await slack.event(event, event_id="Ev0RETRY1")
    retry = await slack.event(
        event,
        event_id="Ev0RETRY1",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert first.status == 200 and retry.status == 200
    assert retry.headers.get("X-Slack-No-Retry") == "1"
    await fake.wait_for("chat.update")
    await slack.idle()
    await fake.settle()
    assert len(fake.of("chat.update")) == 1
    assert _count(slack, RolesAnswer) == 1
    assert _count(slack, SlackEventSeen) == 1


async def test_the_same_event_id_in_another_workspace_is_another_event(slack: SlackDriver) -> None:
    ledger = slack.adapter.events.ledger
    assert ledger.first_time("T0KINDER", "Ev1")
    assert not ledger.first_time("T0KINDER", "Ev1")
    assert ledger.first_time("T0OTHER", "Ev1")


async def test_command_from_an_unknown_workspace_gets_an_install_hint(slack: SlackDriver) -> None:
    # One workspace runs on SLACK_BOT_TOKEN; a command signed for this app but from another workspace
    # (a shared channel, a second install that never happened) cannot be answered with that token.
    response = await slack.command("hjelp", team="T0STRANGER")
    assert response.status == 200
    [hint] = await slack.fake.wait_for("response_url")
    assert "install" in hint.body["text"].lower()
    await slack.idle()
    assert slack.fake.of("chat.postEphemeral") == []
    _nothing_stored(slack)


async def test_url_verification_is_answered(slack: SlackDriver) -> None:
    body = '{"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}'
    response = await slack.send(body, "application/json")
    assert response.status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in await response.text()
