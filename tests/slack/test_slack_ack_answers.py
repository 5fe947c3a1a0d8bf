"""A slash command is handled before it is acknowledged, and its private answer is the acknowledgement
(issue 11). When the process is busy, or the answer is not ready in time, the command is stored first and
answered through its response_url – once, whichever way it went."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.adapters.slack import acks
from bot.adapters.slack import people as people_module
from bot.chat.model import Actor, Command, Place, Post, Private, Reply, Text
from bot.storage.models import InboxItem, RoleAssignment
from tests.slack.fakes import SlackDriver


def _roles(slack: SlackDriver) -> int:
    with slack.bot.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(RoleAssignment)) or 0)


def _inbox(slack: SlackDriver) -> list[tuple[str, bool, str]]:
    with slack.bot.db.transaction() as session:
        rows = session.execute(select(InboxItem.kind, InboxItem.processed_at, InboxItem.payload)).all()
    return [(kind, processed is not None, payload) for kind, processed, payload in rows]


async def test_the_answer_is_the_ack_and_only_the_key_is_kept(slack: SlackDriver) -> None:
    response = await slack.command("rolle leder")
    body = await response.json()
    assert body["response_type"] == "ephemeral" and "leder" in body["text"].lower()
    await slack.fake.wait_for("chat.postMessage")  # the announcement in the channel: through the outbox
    await slack.idle()
    assert [c.method for c in slack.fake.privates()] == ["ack"]
    # Remembered as processed in the command's own transaction, without its payload (who wrote what).
    assert _inbox(slack) == [("command", True, "")]
    assert _roles(slack) == 1


async def test_a_replayed_command_is_acknowledged_and_does_nothing(slack: SlackDriver) -> None:
    first = await slack.command("rolle leder")
    assert "text" in await first.json()
    # The same signed request again (a replay within Slack's five minutes): same signature, same key.
    body, headers = slack.last_request
    again = await slack.client.post("/slack/events", data=body, headers=headers)
    assert again.status == 200
    assert (await again.text()) in ("", "{}")
    await slack.idle()
    assert len(slack.fake.privates()) == 1
    assert _roles(slack) == 1


async def test_when_busy_the_command_is_stored_first_and_answered_through_its_response_url(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(acks, "BEFORE_ACK_MAX_WAITING", 0)
    response = await slack.command("rolle leder")
    assert response.status == 200
    assert (await response.text()) == ""
    [answer] = await slack.fake.wait_for_private()
    assert answer.method == "response_url" and "leder" in str(answer.body).lower()
    await slack.idle()
    assert _inbox(slack) == [("command", True, "")]
    assert _roles(slack) == 1


async def test_an_answer_not_ready_in_time_comes_once_after_the_ack(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await slack.command("hjelp")  # the first contact, outside the test
    monkeypatch.setattr(acks, "ACK_BUDGET_SECONDS", 0.05)
    router = slack.bot.router
    handle = router.handle
    release = threading.Event()

    def slow_handle(*args: Any, **kwargs: Any) -> Any:
        release.wait(5)  # a slow database (in the worker thread, as a real one would be)
        return handle(*args, **kwargs)

    monkeypatch.setattr(router, "handle", slow_handle)
    try:
        sending = asyncio.create_task(slack.command("rolle leder"))
        await asyncio.sleep(0.3)  # the ack budget runs out while the handling waits
        release.set()
        response = await sending
    finally:
        release.set()
    assert response.status == 200
    assert "text" not in (await response.text())
    await slack.fake.wait_for_private(count=2)
    await slack.idle()
    await slack.fake.settle()
    answers = [c for c in slack.fake.privates() if "leder" in str(c.body).lower() and c.method != "ack"]
    assert len(answers) == 1, slack.fake.privates()
    assert _roles(slack) == 1
    assert all(processed for _kind, processed, _payload in _inbox(slack))


def test_only_the_first_private_answer_to_the_person_may_be_the_ack() -> None:
    place = Place("slack", "T1", "C1", None, False)
    command = Command(Actor("U1", "Kari"), place, "hjelp", "")
    pick = acks.ack_answer(command)
    too_long = Reply(fallback="x", blocks=tuple(Text(f"avsnitt {n}") for n in range(60)))  # > 50 blocks
    assert pick(Private(place, "U2", Reply.text("til en annen"))) is None
    assert pick(Post(place, Reply.text("i kanalen"))) is None
    assert pick(Private(place.in_thread("1.2"), "U1", Reply.text("i en tråd"))) is None
    assert pick(Private(place, "U1", too_long)) is None  # two messages: through the response_url
    assert pick(Private(place, "U1", Reply.text("etterpå"))) is None  # would overtake the first
    fresh = acks.ack_answer(command)
    answer = fresh(Private(place, "U1", Reply.text("svaret")))
    assert answer is not None and answer["response_type"] == "ephemeral" and answer["text"] == "svaret"


async def test_without_a_database_the_person_is_told_nothing_was_saved(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def down(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("database is down"))

    def failed(*_args: Any, **_kwargs: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_exception(OperationalError("INSERT", {}, Exception("database is down")))
        return future

    monkeypatch.setattr(slack.bot, "handle_before_ack", failed)
    monkeypatch.setattr(slack.bot.inbox, "receive", down)
    response = await slack.command("rolle leder")
    assert response.status == 200
    body = await response.json()
    assert body["response_type"] == "ephemeral" and "Ingenting av det du sendte ble lagret" in body["text"]
    assert "could not be stored" in caplog.text


async def test_the_people_cache_forgets_who_was_not_seen_for_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    class Messenger:
        calls = 0

        async def call(self, workspace: str, method: str, send: Any) -> dict[str, Any]:
            Messenger.calls += 1
            return {"user": {"id": "U", "profile": {"display_name": f"Navn {Messenger.calls}"}}}

    clock = [1000.0]
    monkeypatch.setattr(people_module.time, "monotonic", lambda: clock[0])
    people = people_module.People(Messenger())  # type: ignore[arg-type]
    await people.actor("T1", "U1")
    await people.actor("T1", "U2")
    assert Messenger.calls == 2 and len(people._cache) == 2
    await people.actor("T1", "U1")  # within the hour: remembered
    assert Messenger.calls == 2
    clock[0] += people_module.PEOPLE_CACHE_SECONDS + 1
    await people.actor("T1", "U3")  # an hour on: the two not seen since are forgotten
    assert Messenger.calls == 3 and set(people._cache) == {("T1", "U3")}
