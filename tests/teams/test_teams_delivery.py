"""Proactive messages after a restart, retries on throttling, never on refusals, and the rate limit."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.teams.ratelimit import ConversationRateLimiter, RateLimited
from bot.chat import delivery
from bot.chat.model import Direct, Place, Post, Reply
from bot.core import Partsbot
from bot.storage.models import OutboxItem
from tests.teams.conftest import FakeTime
from tests.teams.fakes import CHANNEL, KARI, OLA, TENANT, TeamsDriver


def enqueue(bot: Partsbot, *effects: Any) -> None:
    """Put effects in the outbox the way a handler's transaction does (the scheduler will do the same)."""
    with bot.db.transaction() as session:
        delivery.enqueue(session, list(effects), bot.clock(), "teams", TENANT)


def outbox(bot: Partsbot) -> list[OutboxItem]:
    with bot.db.transaction() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


async def test_proactive_direct_message_after_a_restart(start_teams: Any) -> None:
    first = await start_teams()
    await first.say_privately(KARI, "hjelp")  # Kari has talked to the bot in her personal chat
    await first.say(OLA, "god morgen")  # Ola only wrote in the channel, and got no answer

    again: TeamsDriver = await start_teams()  # new bot and adapter objects on the same database
    mark = again.mark()
    enqueue(
        again.bot,
        Direct("teams", TENANT, KARI.id, Reply.text("Påminnelse: modul 3 er på torsdag.")),
        Direct("teams", TENANT, OLA.id, Reply.text("Hvordan var uka di?")),
        Post(Place("teams", TENANT, CHANNEL), Reply.text("Ukens oppsummering")),
    )
    assert await again.bot.delivery.flush() == 3

    # Each conversation is its own lane: their order among each other is not fixed, only within each.
    sent = again.since(mark)
    assert sorted((c.method, c.conversation or "") for c in sent) == sorted(
        [
            ("POST", KARI.chat),  # stored reference from before the restart
            ("CREATE", ""),  # Ola's personal chat did not exist yet: created from the tenant's service URL
            ("POST", OLA.chat),
            ("POST", CHANNEL),  # a new post in the channel
        ]
    )
    [create] = [c for c in sent if c.method == "CREATE"]
    [to_ola] = [c for c in sent if c.conversation == OLA.chat]
    assert sent.index(create) < sent.index(to_ola)
    assert "modul 3" in again.connector.posts_to(KARI.chat)[-1].text and "uka di" in to_ola.text
    assert create.body["members"] == [{"id": OLA.id}]
    assert create.body["bot"]["id"] == "28:partsbot-app-id"
    assert outbox(again.bot) == []

    # The created chat is remembered: the next direct message goes straight there.
    mark = again.mark()
    enqueue(again.bot, Direct("teams", TENANT, OLA.id, Reply.text("Takk for svaret.")))
    await again.bot.delivery.flush()
    assert [(c.method, c.conversation) for c in again.since(mark)] == [("POST", OLA.chat)]


async def test_no_reference_in_the_tenant_is_a_permanent_failure(
    teams: TeamsDriver, caplog: pytest.LogCaptureFixture
) -> None:
    enqueue(teams.bot, Direct("teams", "another-tenant", KARI.id, Reply.text("Hei")))
    with caplog.at_level(logging.ERROR):
        assert await teams.bot.delivery.flush() == 0
    assert outbox(teams.bot) == []
    assert "no Teams conversation known in tenant another-tenant" in caplog.text


async def test_429_twice_then_delivered(teams: TeamsDriver, fake_time: FakeTime) -> None:
    await teams.say(KARI, "rolle leder")
    teams.connector.fail_next(429, times=2, retry_after="3")
    mark = teams.mark()
    enqueue(teams.bot, Post(Place("teams", TENANT, CHANNEL), Reply.text("Etter kø")))
    assert await teams.bot.delivery.flush() == 1

    attempts = teams.since(mark)
    assert [c.status for c in attempts] == [429, 429, 200]
    # Backoff honours Retry-After; the sleeps are on the fake clock, nobody waited for real.
    assert [s for s in fake_time.sleeps if s >= 3] == [3, 3]
    assert outbox(teams.bot) == []


@pytest.mark.parametrize("status", [412, 502, 504])
async def test_other_retryable_statuses_are_retried(
    teams: TeamsDriver, fake_time: FakeTime, status: int
) -> None:
    await teams.say(KARI, "rolle leder")
    teams.connector.fail_next(status)
    mark = teams.mark()
    enqueue(teams.bot, Post(Place("teams", TENANT, CHANNEL), Reply.text("Hei")))
    assert await teams.bot.delivery.flush() == 1
    assert [c.status for c in teams.since(mark)] == [status, 200]
    assert fake_time.sleeps  # with a backoff in between


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_refusals_are_not_retried_and_dropped(
    teams: TeamsDriver, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    await teams.say(KARI, "rolle leder")
    teams.connector.fail_next(status)
    mark = teams.mark()
    enqueue(teams.bot, Post(Place("teams", TENANT, CHANNEL), Reply.text("Hei")))
    with caplog.at_level(logging.ERROR):
        assert await teams.bot.delivery.flush() == 0

    assert [c.status for c in teams.since(mark)] == [status]  # exactly one attempt
    assert outbox(teams.bot) == []  # not retryable: dropped, and said so
    assert f"Teams answered {status}" in caplog.text


async def test_persistent_gateway_errors_stay_in_the_outbox(teams: TeamsDriver, fake_time: FakeTime) -> None:
    await teams.say(KARI, "rolle leder")
    teams.connector.fail_next(502, times=4)
    mark = teams.mark()
    enqueue(teams.bot, Post(Place("teams", TENANT, CHANNEL), Reply.text("Hei")))
    assert await teams.bot.delivery.flush() == 0

    assert [c.status for c in teams.since(mark)] == [502, 502, 502, 502]  # 1 try + 3 retries here
    [item] = outbox(teams.bot)
    assert item.attempts == 1 and "502" in item.last_error  # the outbox tries again later

    teams.bot.clock.advance(minutes=5)  # type: ignore[attr-defined]
    assert await teams.bot.delivery.flush() == 1
    assert outbox(teams.bot) == []


async def test_connection_refused_is_retryable(teams: TeamsDriver) -> None:
    await teams.say(KARI, "rolle leder")
    with teams.bot.db.transaction() as session:
        from bot.storage.models import ConversationReference

        for row in session.scalars(select(ConversationReference)):
            row.data = {**row.data, "serviceUrl": "http://127.0.0.1:9/"}  # nothing listens on port 9
    enqueue(teams.bot, Post(Place("teams", TENANT, CHANNEL), Reply.text("Hei")))
    assert await teams.bot.delivery.flush() == 0
    [item] = outbox(teams.bot)
    assert item.attempts == 1


async def test_at_most_seven_messages_a_second_per_conversation(
    teams: TeamsDriver, fake_time: FakeTime
) -> None:
    await teams.say(KARI, "rolle leder")
    start = fake_time.now
    mark = teams.mark()
    enqueue(
        teams.bot, *(Post(Place("teams", TENANT, CHANNEL), Reply.text(f"Melding {n}")) for n in range(10))
    )
    assert await teams.bot.delivery.flush() == 10
    assert len(teams.since(mark)) == 10
    # Seven went out at once (plus the one sent during "rolle leder" counts), the rest had to wait.
    assert fake_time.now - start >= 1.0


def test_rate_limiter_windows() -> None:
    time = FakeTime()
    limiter = ConversationRateLimiter(monotonic=time.monotonic, sleep=time.sleep, max_wait=60)
    stamps: list[float] = []

    async def run() -> None:
        for _ in range(70):
            await limiter.acquire("c1")
            stamps.append(time.now)
        await limiter.acquire("c2")  # another conversation is not held up

    import asyncio

    asyncio.run(run())
    for limit, period in ((7, 1.0), (8, 2.0), (60, 30.0)):
        for i, t in enumerate(stamps):
            in_window = [s for s in stamps[i:] if s < t + period]
            assert len(in_window) <= limit, (limit, period, t)
    assert stamps[-1] >= 30.0 + stamps[0]  # the 61st message waited for the 30 s window
    assert time.now == stamps[-1]


def test_rate_limiter_hands_long_waits_back() -> None:
    time = FakeTime()
    limiter = ConversationRateLimiter(((2, 60.0),), monotonic=time.monotonic, sleep=time.sleep, max_wait=10)

    async def run() -> None:
        await limiter.acquire("c")
        await limiter.acquire("c")
        with pytest.raises(RateLimited) as caught:
            await limiter.acquire("c")
        assert caught.value.wait == pytest.approx(60.0)

    import asyncio

    asyncio.run(run())
    assert time.sleeps == []


async def test_updates_are_retried_by_us_not_by_msrest(teams: TeamsDriver, fake_time: FakeTime) -> None:
    """msrest would retry a throttled PUT by itself, without our backoff, limits or Retry-After."""
    from bot.chat.model import Update

    await teams.say(KARI, "rolle verneombud")
    await teams.say(KARI, "roller")
    teams.connector.fail_next(429, times=1, retry_after="2")
    mark = teams.mark()
    enqueue(teams.bot, Update("roles:1:head", Reply.text("Ny tittel")))
    assert await teams.bot.delivery.flush() == 1

    puts = [c for c in teams.since(mark) if c.method == "PUT"]
    assert [c.status for c in puts] == [429, 200]
    assert 2 in fake_time.sleeps
    assert "Ny tittel" in puts[-1].text


def test_rate_limiter_forgets_idle_conversations() -> None:
    time = FakeTime()
    limiter = ConversationRateLimiter(monotonic=time.monotonic, sleep=time.sleep)

    async def run() -> None:
        for n in range(5):
            await limiter.acquire(f"c{n}")
        time.now += 3601
        await limiter.acquire("busy")
        limiter.forget_idle()

    import asyncio

    asyncio.run(run())
    assert set(limiter._sent) == {"busy"}


def test_msrest_retry_codes_are_the_same_with_the_faster_lookup() -> None:
    """The Teams adapter replaces msrest's list of safe status codes by a set (bot/adapters/teams/adapter.py):
    every ConnectorClient still gets exactly the codes msrest meant."""
    from msrest.universal_http.requests import ClientRetryPolicy

    import bot.adapters.teams.adapter  # noqa: F401  (applies the replacement)

    safe = [i for i in range(500) if i != 408] + [501, 505]
    assert isinstance(ClientRetryPolicy.safe_codes, frozenset)
    assert ClientRetryPolicy().policy.status_forcelist == [i for i in range(999) if i not in safe]
