"""What a Slack request carries past its acknowledgement: what bolt's context said about it (:class:`Meta`),
the inbox item it is processed from (:class:`Job`), and the work started after the ack
(:class:`BackgroundTasks`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncBoltContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Meta:
    """What bolt's context told about a request, stored with it so it can be processed after a restart."""

    team_id: str
    enterprise_id: str | None
    bot_user_id: str | None


class Job:
    """One inbox item being processed: the first event it causes marks it processed (same transaction)."""

    def __init__(self, item_id: int | None) -> None:
        self.item_id = item_id
        self.marked = False

    def take(self) -> int | None:
        if self.marked:
            return None
        self.marked = True
        return self.item_id


class BackgroundTasks:
    """Work started after an acknowledgement: kept referenced, errors logged, drained on shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("Slack %s failed after it was acknowledged", what)

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, seconds: float) -> None:
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=seconds)
        for task in pending:
            task.cancel()

    def __len__(self) -> int:
        return len(self._tasks)


def meta_of(context: AsyncBoltContext, body: dict[str, Any]) -> Meta:
    return Meta(str(context.team_id or body.get("team_id") or ""), context.enterprise_id, context.bot_user_id)
