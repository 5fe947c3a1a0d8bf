"""Fixtures for the Teams tests: a fake Bot Connector on 127.0.0.1 port 0 and the real server.

``teams`` starts the application from :func:`bot.web.build_app` with the Teams adapter (empty app id, so
authentication is off as it is in development) and returns a :class:`TeamsDriver` that POSTs Activities whose
``serviceUrl`` is the fake. Time never passes by sleeping: the messenger's backoff and the rate limiter use
:class:`FakeTime`. Every card the bot sent is checked when a test ends (size, Microsoft's parser).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.adapters.teams import TeamsWebAdapter
from bot.adapters.teams.ratelimit import ConversationRateLimiter
from bot.core import Partsbot
from bot.grants import remember_installer
from bot.web import build_app
from tests.teams.fakes import KARI, TENANT, FakeConnector, TeamsDriver


class FakeTime:
    """A monotonic clock that moves only when someone sleeps on it; the sleeps are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    server = TestServer(fake.app(), host="127.0.0.1", port=0)
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    try:
        fake.assert_cards_valid()
    finally:
        await server.close()


TeamsFactory = Callable[..., Awaitable[TeamsDriver]]


@pytest.fixture
async def start_teams(
    make_bot: Callable[..., Partsbot], connector: FakeConnector, fake_time: FakeTime
) -> AsyncIterator[TeamsFactory]:
    """Start (or, called again, restart with new bot and adapter objects on the same database) the server."""
    clients: list[TestClient] = []

    async def start(**settings: Any) -> TeamsDriver:
        for client in clients:
            await client.close()
        clients.clear()
        bot = make_bot(**settings)
        # Kari added the app to the team (tests/teams/test_role_grants_teams.py sends the real
        # conversation update); that lets her set up the unit's leder.
        with bot.db.transaction() as session:
            remember_installer(session, "teams", TENANT, KARI.id, bot.clock())
        limiter = ConversationRateLimiter(monotonic=fake_time.monotonic, sleep=fake_time.sleep)
        adapter = TeamsWebAdapter(
            bot, allow_anonymous=not bot.settings.microsoft_app_id, sleep=fake_time.sleep, limiter=limiter
        )
        app = build_app(bot, [adapter], redeliver=False)
        client = TestClient(TestServer(app, host="127.0.0.1", port=0))
        await client.start_server()
        clients.append(client)
        return TeamsDriver(client, connector, adapter, bot)

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def teams(start_teams: TeamsFactory) -> TeamsDriver:
    return await start_teams()
