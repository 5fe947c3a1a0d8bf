"""Delivery lanes (code review B3, B4): order within a lane across retries, no lane waiting for another, a
stale update never overwriting a newer one, nothing dropped silently (parked, listed, retried)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from bot.chat import delivery
from bot.chat.messenger import DeliveryError
from bot.chat.model import Direct, Form, Place, Platform, Post, Private, Reply, Update
from bot.core import Partsbot
from bot.storage.models import OutboxItem
from tests.conftest import FakeClock

PLACE = Place("slack", "T1", "C1")
OTHER = Place("slack", "T1", "C2")


class Recorder:
    """A platform that records what arrives; ``down`` makes every call fail with a retryable error, and a
    channel in ``blocked`` waits for its event before answering."""

    platform: Platform = "slack"

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.down = False
        self.blocked: dict[str, asyncio.Event] = {}
        self.fail_update_once: set[str] = set()

    async def _gate(self, channel: str, what: str) -> None:
        if self.down:
            raise DeliveryError("platform down", retryable=True)
        if channel in self.blocked:
            await self.blocked[channel].wait()
        self.sent.append(what)

    async def post(self, place: Place, reply: Reply) -> str:
        await self._gate(place.channel, f"post {place.channel} {reply.fallback}")
        return f"ts-{len(self.sent)}"

    async def update(self, place: Place, message_id: str, reply: Reply) -> None:
        if reply.fallback in self.fail_update_once:
            self.fail_update_once.discard(reply.fallback)
            raise DeliveryError("update failed", retryable=True)
        await self._gate(place.channel, f"update {reply.fallback}")

    async def post_private(self, place: Place, user_id: str, reply: Reply) -> None:
        await self._gate("private", f"private {user_id} {reply.fallback}")

    async def post_direct(self, workspace: str, user_id: str, reply: Reply) -> None:
        await self._gate("direct", f"direct {user_id} {reply.fallback}")

    async def open_form(self, place: Place, user_id: str, form: Form, trigger_id: str | None) -> None:
        return None


def _enqueue(bot: Partsbot, *effects: object) -> None:
    with bot.db.transaction() as session:
        delivery.enqueue(session, list(effects), bot.clock(), "slack", "T1")  # type: ignore[arg-type]


def _items(bot: Partsbot) -> list[OutboxItem]:
    with bot.db.transaction() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def _bot(make_bot: Callable[..., Partsbot]) -> tuple[Partsbot, Recorder]:
    bot = make_bot()
    recorder = Recorder()
    bot.add_messenger(recorder)
    return bot, recorder


async def test_a_retried_old_update_never_overwrites_a_newer_one(
    make_bot: Callable[..., Partsbot], clock: FakeClock
) -> None:
    bot, recorder = _bot(make_bot)
    _enqueue(bot, Post(PLACE, Reply.text("0 har stemt"), key="vote:1:head"))
    await bot.delivery.flush()
    recorder.fail_update_once.add("1 har stemt")
    _enqueue(bot, Update("vote:1:head", Reply.text("1 har stemt")))
    await bot.delivery.flush()  # fails: the update waits for its retry, holding its lane
    _enqueue(bot, Update("vote:1:head", Reply.text("2 har stemt")))
    await bot.delivery.flush()
    assert recorder.sent == ["post C1 0 har stemt"]  # the newer update did not overtake the older one
    clock.advance(minutes=1)
    await bot.delivery.flush()
    # The older state is superseded by the newer one: one update, showing the newest.
    assert recorder.sent == ["post C1 0 har stemt", "update 2 har stemt"]
    assert _items(bot) == []


async def test_a_slow_channel_does_not_hold_up_another_or_private_answers(
    make_bot: Callable[..., Partsbot],
) -> None:
    bot, recorder = _bot(make_bot)
    recorder.blocked["C1"] = asyncio.Event()
    _enqueue(
        bot,
        Post(PLACE, Reply.text("a")),
        Post(PLACE, Reply.text("b")),
        Post(OTHER, Reply.text("c")),
        Private(PLACE, "U1", Reply.text("d")),
        Direct("slack", "T1", "U2", Reply.text("e")),
    )
    flushing = asyncio.create_task(bot.delivery.flush())
    for _ in range(200):  # the other lanes finish while C1 is stuck (bounded: no waiting on time)
        if len(recorder.sent) == 3:
            break
        await asyncio.sleep(0.01)
    assert sorted(recorder.sent) == ["direct U2 e", "post C2 c", "private U1 d"]
    recorder.blocked["C1"].set()
    assert await flushing == 5
    assert recorder.sent[-2:] == ["post C1 a", "post C1 b"]  # and C1 kept its order


async def test_long_failure_parks_items_lists_them_and_retries_them_when_the_platform_is_back(
    make_bot: Callable[..., Partsbot], clock: FakeClock, tmp_path: Path
) -> None:
    bot, recorder = _bot(make_bot)
    recorder.down = True
    _enqueue(bot, Post(PLACE, Reply.text("viktig")))
    for _ in range(delivery.MAX_ATTEMPTS):
        await bot.delivery.flush()
        clock.advance(minutes=20)
    [item] = _items(bot)
    assert item.parked and item.attempts == delivery.MAX_ATTEMPTS
    [shown] = delivery.waiting(bot.db)
    assert shown.parked and shown.kind == "Post" and "viktig" not in repr(shown)

    recorder.down = False
    _enqueue(bot, Post(OTHER, Reply.text("ny")))
    await bot.delivery.flush()  # the platform delivers again: the parked item goes back into its lane
    await bot.delivery.flush()
    assert recorder.sent == ["post C2 ny", "post C1 viktig"]
    assert _items(bot) == []


def test_partsbot_outbox_lists_parked_items_and_retry_puts_them_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}

    def partsbot(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "empty" in partsbot("outbox")
    from bot.storage.db import Database

    db = Database(url)
    with db.transaction() as session:
        session.add(OutboxItem(platform="slack", lane="slack:T1:C1", effect="{}", attempts=120, parked=True))
        session.add(OutboxItem(platform="slack", lane="slack:T1:C2", effect="{}", last_error="HTTP 503"))
    db.dispose()
    listed = partsbot("outbox").splitlines()
    assert "PARKED" in listed[0] and "slack:T1:C1" in listed[0]
    assert any("waiting" in line and "slack:T1:C2" in line for line in listed)
    assert "1 parked item(s) put back" in partsbot("outbox", "retry")
    assert "PARKED" not in partsbot("outbox")
