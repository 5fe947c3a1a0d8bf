"""Socket Mode (``SLACK_APP_TOKEN``): Partsbot opens a WebSocket to (fake) Slack, receives a slash command
envelope over it, acknowledges it and answers through the Web API – no public URL involved."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.slack.app import build_slack_adapter
from bot.web import build_app
from tests.slack.fakes import BOT_TOKEN, CHANNEL, TEAM, WAIT, FakeSlack

APP_TOKEN = "xapp-1-A0PARTS-1-socket"


async def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {WAIT}s")
        await asyncio.sleep(0.02)


async def test_slash_command_over_socket_mode(make_bot: Any, fake_slack: FakeSlack) -> None:
    bot = make_bot(
        slack_app_token=APP_TOKEN, slack_bot_token=BOT_TOKEN, slack_api_url=fake_slack.url + "/api/"
    )
    adapter = build_slack_adapter(bot, bot.settings, post_interval=0.05)
    assert adapter is not None
    client = TestClient(TestServer(build_app(bot, [adapter], redeliver=False), host="127.0.0.1", port=0))
    await client.start_server()  # runs adapter.start(): apps.connections.open, then the WebSocket
    try:
        [opened] = await fake_slack.wait_for("apps.connections.open")
        assert opened.token == APP_TOKEN
        await _until(lambda: fake_slack.sockets, "the WebSocket connection")

        # Without a signing secret there is no HTTP entry point that could be reached unsigned.
        response = await client.post("/slack/events", data="{}")
        assert response.status in (404, 405)

        command = {
            "team_id": TEAM,
            "team_domain": "bjornebo",
            "channel_id": CHANNEL,
            "channel_name": "ansatte",
            "user_id": "UKARI",
            "user_name": "kari",
            "command": "/parts",
            "text": "hjelp",
            "api_app_id": "A0PARTS",
            "response_url": f"{fake_slack.url}/response/1",
            "trigger_id": "trigger.socket",
        }
        envelope = {
            "envelope_id": "env-0001",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": command,
        }
        fake_slack.response_owners["1"] = "UKARI"
        fake_slack.envelope_owners["env-0001"] = "UKARI"
        await fake_slack.sockets[0].send_json(envelope)
        [answer] = await fake_slack.wait_for_private()
        assert answer.user == "UKARI" and "/parts" in fake_slack.private_texts()[0]
        await _until(
            lambda: any(m.get("envelope_id") == "env-0001" for m in fake_slack.socket_messages), "the ack"
        )
    finally:
        await client.close()  # adapter.stop() closes the socket
