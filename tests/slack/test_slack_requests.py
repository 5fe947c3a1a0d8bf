"""What Slack's rules demand of the request side: signatures, stale timestamps, retried events, replayed
commands and interactions, unknown workspaces."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.storage.models import InboxItem, Member, Organisation, OutboxItem, RoleAssignment, RolesAnswer
from tests.slack.fakes import CHANNEL, SlackDriver, signed_headers


def _count(slack: SlackDriver, model: type) -> int:
    with slack.bot.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _nothing_stored(slack: SlackDriver) -> None:
    for model in (Organisation, Member, OutboxItem, InboxItem):
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
    assert _count(slack, InboxItem) == 3  # two commands, one event (its retry was not stored)


async def test_the_same_event_id_in_another_workspace_is_another_event(slack: SlackDriver) -> None:
    event = {"type": "app_home_opened", "user": "UKARI", "tab": "messages"}
    first = await slack.event(event, event_id="Ev1")
    again = await slack.event(event, event_id="Ev1")
    assert [first.status, again.status] == [200, 200]
    assert "X-Slack-No-Retry" not in first.headers and again.headers.get("X-Slack-No-Retry") == "1"
    await slack.idle()
    [item] = _items(slack)
    assert item.key == "event:T0KINDER:Ev1" and item.processed_at is not None
    assert slack.bot.inbox.store("slack", "event:T0OTHER:Ev1", "event", {}) is not None


def _items(slack: SlackDriver) -> list[InboxItem]:
    with slack.bot.db.transaction() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


async def test_a_replayed_command_does_nothing(slack: SlackDriver) -> None:
    """SEC-14: a captured, signed command sent again within the five-minute window changes nothing."""
    body = (
        "team_id=T0KINDER&channel_id=C0BJORNE&channel_name=ansatte&user_id=UKARI&user_name=kari"
        f"&command=%2Fparts&text=rolle+leder&response_url={slack.fake.url}/response/99&trigger_id=t.1"
    )
    headers = signed_headers(body)
    first = await slack.send(body, "application/x-www-form-urlencoded", headers=headers)
    await slack.fake.wait_for("chat.postMessage")
    await slack.idle()
    calls = len(slack.fake.calls)
    replay = await slack.send(body, "application/x-www-form-urlencoded", headers=headers)
    assert first.status == 200 and replay.status == 200
    await slack.idle()
    assert len(slack.fake.calls) == calls
    assert _count(slack, RoleAssignment) == 1 and _count(slack, InboxItem) == 1


async def test_a_replayed_button_click_does_nothing(slack: SlackDriver) -> None:
    await slack.command("rolle leder")
    await slack.fake.wait_for("chat.postMessage")
    await slack.idle()
    payload = {
        "type": "block_actions",
        "team": {"id": "T0KINDER"},
        "user": {"id": "UOLA", "name": "ola"},
        "channel": {"id": CHANNEL},
        "trigger_id": "t.2",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL},
        "message": {"ts": "1.1"},
        "actions": [{"action_id": "vote.add", "value": "case:1:idea:1", "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    headers = signed_headers(body)
    await slack.send(body, "application/x-www-form-urlencoded", headers=headers)
    await slack.idle()
    await slack.fake.wait_for("chat.postEphemeral")
    calls = len(slack.fake.calls)
    replay = await slack.send(body, "application/x-www-form-urlencoded", headers=headers)
    assert replay.status == 200
    await slack.idle()
    assert len(slack.fake.calls) == calls
    assert _count(slack, InboxItem) == 2


async def test_repeated_signature_headers_and_a_malformed_timestamp_are_refused(slack: SlackDriver) -> None:
    body = "team_id=T0KINDER&channel_id=C0BJORNE&user_id=UKARI&command=%2Fparts&text=hjelp"
    good = signed_headers(body)
    bad = signed_headers(body, secret="not-the-secret")
    for first, second in ((good, bad), (bad, good)):
        response = await slack.client.post(
            "/slack/events",
            data=body,
            headers=[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("X-Slack-Request-Timestamp", first["X-Slack-Request-Timestamp"]),
                ("X-Slack-Signature", first["X-Slack-Signature"]),
                ("X-Slack-Signature", second["X-Slack-Signature"]),
            ],
        )
        assert response.status == 401
    for ts in ("12ab", "", "1.5e9", "-1"):
        headers = {
            **good,
            "X-Slack-Request-Timestamp": ts,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        response = await slack.client.post("/slack/events", data=body, headers=headers)
        assert response.status == 401, ts
    _nothing_stored(slack)


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


async def test_a_person_is_looked_up_once_and_a_user_change_event_refreshes_the_name(
    slack: SlackDriver,
) -> None:
    """users.info is asked once per person (remembered for an hour, not once per command); Slack's
    user_change event refreshes what is remembered – nothing stored, nothing asked again."""
    for _ in range(3):
        assert (await slack.command("hjelp", user="UPER")).status == 200
    await slack.fake.wait_for_private(count=3, user="UPER")
    await slack.idle()
    assert [c.body.get("user") for c in slack.fake.of("users.info")] == ["UPER"]
    stored = _count(slack, InboxItem)

    changed = {"id": "UPER", "real_name": "Per Pedagog", "profile": {"display_name": "Per Pedagog"}}
    assert (await slack.event({"type": "user_change", "user": changed})).status == 200
    assert _count(slack, InboxItem) == stored  # nothing to keep: the event only refreshes a name
    assert (await slack.command("hjelp", user="UPER")).status == 200
    await slack.fake.wait_for_private(count=4, user="UPER")
    await slack.idle()
    assert [c.body.get("user") for c in slack.fake.of("users.info")] == ["UPER"]
    with slack.bot.db.transaction() as session:
        names = session.scalars(select(Member.display_name).where(Member.user_id == "UPER")).all()
    assert names == ["Per Pedagog"]
