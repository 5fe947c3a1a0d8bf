"""Less work per event (issue #11): events that arrive together are handled in one transaction, each in a
savepoint of its own, so one that fails fails alone; on SQLite a request waiting for its acknowledgement
(its inbox insert) gets the writer before work that is already safe in the database."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.messenger import DeliveryError
from bot.chat.model import Actor, Command, Form, Place, Platform, Reply
from bot.core import Partsbot
from bot.storage.db import Database
from bot.storage.models import Member, OutboxItem

PLACE = Place("slack", "T1", "C1")


class Answers:
    platform: Platform = "slack"

    def __init__(self) -> None:
        self.private: list[str] = []

    async def post(self, place: Place, reply: Reply) -> str:
        return "ts"

    async def update(self, place: Place, message_id: str, reply: Reply) -> None:
        return None

    async def post_private(self, place: Place, user_id: str, reply: Reply) -> None:
        self.private.append(user_id)

    async def post_direct(self, workspace: str, user_id: str, reply: Reply) -> None:
        return None

    async def open_form(self, place: Place, user_id: str, form: Form, trigger_id: str | None) -> None:
        return None


async def test_events_arriving_together_share_one_transaction_and_a_failing_one_fails_alone(
    make_bot: Callable[..., Partsbot],
) -> None:
    bot = make_bot()
    answers = Answers()
    bot.add_messenger(answers)
    sessions: dict[str, list[int]] = {}
    handle = bot.router.handle

    def spying(session: Session, settings: Any, event: Any, now: Any, receipt: Any = None) -> Any:
        sessions.setdefault(event.actor.user_id, []).append(id(session))
        if event.actor.user_id == "UBROKEN":
            raise RuntimeError("a bug in one handler")
        return handle(session, settings, event, now, receipt)

    bot.router.handle = spying  # type: ignore[method-assign]
    people = ["U1", "U2", "UBROKEN", "U3", "U4"]
    results = await asyncio.gather(
        *(bot.handle(Command(Actor(p, p), PLACE, "hjelp", "")) for p in people), return_exceptions=True
    )

    assert [type(r).__name__ for r in results] == ["list", "list", "RuntimeError", "list", "list"]
    # One transaction for all five; when one raised, the batch was rolled back and every event was then
    # handled alone, in a transaction of its own: the failing one fails, the others are done once.
    batch = sessions["U1"][0]
    assert sessions["U2"][0] == batch and sessions["UBROKEN"][0] == batch
    assert len(sessions["UBROKEN"]) == 2 and sessions["UBROKEN"][1] != batch
    assert all(sessions[p][-1] != batch for p in people)
    assert sorted(answers.private) == ["U1", "U2", "U3", "U4"]  # each once: the rolled-back work sent nothing
    with bot.db.transaction() as session:
        members = session.scalars(select(Member.user_id).order_by(Member.user_id)).all()
        left = session.scalars(select(OutboxItem)).all()
    assert list(members) == ["U1", "U2", "U3", "U4"]  # the failed event's first contact was rolled back
    assert left == []


async def test_a_batch_member_whose_delivery_fails_keeps_its_item_and_the_others_go_out(
    make_bot: Callable[..., Partsbot],
) -> None:
    bot = make_bot()
    answers = Answers()
    bot.add_messenger(answers)
    send = answers.post_private

    async def refusing(place: Place, user_id: str, reply: Reply) -> None:
        if user_id == "U2":
            raise DeliveryError("Slack is down for this one", retryable=True)
        await send(place, user_id, reply)

    answers.post_private = refusing  # type: ignore[method-assign]
    await asyncio.gather(*(bot.handle(Command(Actor(p, p), PLACE, "hjelp", "")) for p in ("U1", "U2", "U3")))
    assert sorted(answers.private) == ["U1", "U3"]
    with bot.db.transaction() as session:
        waiting = session.scalars(select(OutboxItem)).all()
    assert [item.lane for item in waiting] == ["slack:T1:C1:private:U2"]
    assert waiting[0].attempts == 1 and waiting[0].next_attempt_at > bot.clock()


def test_on_sqlite_a_write_waiting_for_its_acknowledgement_goes_before_other_waiting_writes(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'writer.sqlite3'}")
    writer = db._writer
    assert writer is not None
    order: list[str] = []
    release = threading.Event()
    holding = threading.Event()

    def hold() -> None:
        with db.transaction():
            holding.set()
            release.wait(10)

    def write(name: str, urgent: bool) -> None:
        with db.transaction(urgent=urgent):
            order.append(name)

    def until_waiting(count: int) -> None:
        deadline = time.monotonic() + 10  # a bound for threads to reach their wait, never asserted on
        while writer.waiting() != count:
            assert time.monotonic() < deadline, "a thread did not start waiting"
            time.sleep(0.005)

    threads = [threading.Thread(target=hold)]
    threads[0].start()
    assert holding.wait(10)
    for name, urgent in (("batch of events", False), ("removal", False), ("inbox insert", True)):
        thread = threading.Thread(target=write, args=(name, urgent))
        thread.start()
        threads.append(thread)
        until_waiting(len(threads) - 1)
    release.set()
    for thread in threads:
        thread.join(10)
    assert order[0] == "inbox insert"
    assert sorted(order[1:]) == ["batch of events", "removal"]
    db.dispose()


@pytest.mark.parametrize("times", [1, 3])
def test_a_stored_request_is_stored_once_whatever_arrives_with_it(
    make_bot: Callable[..., Partsbot], times: int
) -> None:
    bot = make_bot()
    first = bot.inbox.store_many([("slack", "event:T1:Ev1", "event", {"n": 1})] * times)
    assert first[0] is not None and first[1:] == [None] * (times - 1)
    again = bot.inbox.store_many(
        [("slack", "event:T1:Ev1", "event", {"n": 1}), ("slack", "event:T1:Ev2", "event", {})]
    )
    assert again[0] is None and again[1] is not None and again[1].id != first[0].id


async def test_an_event_that_comes_the_moment_a_batch_ends_is_handled_too(
    make_bot: Callable[..., Partsbot],
) -> None:
    """With nothing to wait for in between (delivery held), the next event arrives while the finished
    batcher's task is done but not yet forgotten: it must start a new one, not wait for the old."""
    bot = make_bot()

    async def held(*_args: object, **_kwargs: object) -> int:
        return 0

    bot.delivery.flush = held  # type: ignore[method-assign]
    handled: list[int] = []

    async def one_after_the_other() -> None:
        for n in range(3):  # awaited directly: nothing runs in between
            if await bot.handle(Command(Actor(f"U{n}", "x"), PLACE, "hjelp", "")):
                handled.append(n)

    sequence = asyncio.ensure_future(one_after_the_other())
    await asyncio.wait({sequence}, timeout=10)  # a bound for a hang, never reached when it works
    sequence.cancel()
    assert handled == [0, 1, 2]
