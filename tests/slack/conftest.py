"""Fixtures for the Slack tests: the fake Web API on 127.0.0.1 port 0 and the real server pointed at it.

``slack_server`` starts the application from :func:`bot.web.build_app` with the Slack adapter whose
``SLACK_API_URL`` is the fake; tests drive it with signed requests through :class:`SlackDriver`. Every Block
Kit payload the bot sent is validated when a test ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.slack.app import build_slack_adapter
from bot.adapters.slack.client import TokenBucket
from bot.core import Partsbot
from bot.web import build_app
from tests.slack.fakes import BOT_TOKEN, SIGNING_SECRET, FakeSlack, SlackDriver


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    server = TestServer(fake.app(), host="127.0.0.1", port=0)
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    try:
        fake.assert_valid_block_kit()
    finally:
        for ws in fake.sockets:
            await ws.close()
        await server.close()


@pytest.fixture
def slack_settings(fake_slack: FakeSlack) -> dict[str, Any]:
    """Settings overrides for one workspace with a bot token; tests may change them before starting."""
    return {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": BOT_TOKEN,
        "slack_api_url": fake_slack.url + "/api/",
    }


@pytest.fixture
def post_interval() -> float:
    # Fast pacing for most tests; the pacing test asks for the real default.
    return 0.05


@pytest.fixture
async def slack(
    make_bot: Callable[..., Partsbot],
    fake_slack: FakeSlack,
    slack_settings: dict[str, Any],
    post_interval: float,
) -> AsyncIterator[SlackDriver]:
    bot = make_bot(**slack_settings)
    adapter = build_slack_adapter(bot, bot.settings, post_interval=post_interval)
    assert adapter is not None
    app = build_app(bot, [adapter], redeliver=False)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    driver = SlackDriver(client, fake_slack, adapter, bot)
    try:
        yield driver
    finally:
        await client.close()


class ManualTime:
    """A monotonic clock that stands still until the test moves it; sleepers wake when their time comes."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, woken))
        await woken

    def sleeping(self) -> int:
        return sum(1 for _, woken in self._sleepers if not woken.done())

    def advance(self, seconds: float) -> None:
        self.now += seconds
        waiting = []
        for due, woken in self._sleepers:
            if due <= self.now + 1e-9:
                if not woken.done():
                    woken.set_result(None)
            else:
                waiting.append((due, woken))
        self._sleepers = waiting


@pytest.fixture
def manual_time(slack: SlackDriver) -> ManualTime:
    """Slack's real pace (one post a second per channel after a short burst) on a clock the test moves."""
    time = ManualTime()
    slack.adapter.messenger.pacer = TokenBucket(1.0, monotonic=time.monotonic, sleep=time.sleep)
    return time
