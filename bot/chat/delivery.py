"""Delivery through an outbox: effects are stored with the change that caused them, then sent.

Why: a platform outage (Slack 5xx, Teams 502) must not lose a person's vote confirmation or a case's head
message. Items are written in the handler's transaction, sent right after it commits, and deleted once
delivered; what fails with a retryable error stays and is retried with backoff by :meth:`Delivery.flush`,
which the server also runs periodically. Items of one workspace go out in order, so an update never
overtakes the message it updates.

Several replicas may flush the same table: each item is claimed with a short lease (an UPDATE that only
one replica can win) before it is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.chat import codec
from bot.chat.messenger import DeliveryError, Messenger
from bot.chat.model import Direct, Effect, OpenForm, Place, Post, Private, Update
from bot.storage.db import Database
from bot.storage.models import OutboxItem, PostedMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=15)
# After this many failed attempts (about a day with the capped backoff) an item is dropped and logged.
MAX_ATTEMPTS = 120

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def lane_of(effect: Effect) -> tuple[str, str]:
    match effect:
        case Post(place=place) | Private(place=place) | OpenForm(place=place):
            return place.platform, f"{place.platform}:{place.workspace}"
        case Direct(platform=platform, workspace=workspace):
            return platform, f"{platform}:{workspace}"
        case Update():
            # An update has no place of its own; enqueue() puts it in the lane of the event that caused it.
            return "", ""
    raise TypeError(f"not an effect: {effect!r}")


def enqueue(session: Session, effects: list[Effect], now: datetime, platform: str, workspace: str) -> None:
    """Store effects (all but forms, which only make sense right away) in the outbox."""
    for effect in effects:
        if isinstance(effect, OpenForm):
            continue
        effect_platform, lane = lane_of(effect)
        if isinstance(effect, Update):
            # Updates travel in the lane of the event that caused them: same platform and workspace.
            effect_platform, lane = platform, f"{platform}:{workspace}"
        session.add(
            OutboxItem(platform=effect_platform, lane=lane, effect=codec.dumps(effect), next_attempt_at=now)
        )


class Delivery:
    def __init__(self, db: Database, clock: Clock = _utcnow) -> None:
        self.db = db
        self.clock = clock
        self.messengers: dict[str, Messenger] = {}
        self._lock = asyncio.Lock()

    def register(self, messenger: Messenger) -> None:
        self.messengers[messenger.platform] = messenger

    async def open_form(self, effect: OpenForm) -> None:
        messenger = self.messengers.get(effect.place.platform)
        if messenger is None:
            log.error("no messenger for %s; form %s not shown", effect.place.platform, effect.form.form_id)
            return
        try:
            await messenger.open_form(effect.place, effect.user_id, effect.form, effect.trigger_id)
        except DeliveryError as exc:
            log.warning("form %s could not be opened: %s", effect.form.form_id, exc)

    async def flush(self) -> int:
        """Send everything due now; return how many items were delivered."""
        async with self._lock:
            return await self._flush()

    async def _flush(self) -> int:
        now = self.clock()
        rows = await asyncio.to_thread(self._due, now)
        blocked: set[str] = set()
        sent = 0
        for item_id, platform, lane, payload in rows:
            if lane in blocked or platform not in self.messengers:
                continue
            if not await asyncio.to_thread(self._claim, item_id, now):
                blocked.add(lane)  # another replica is sending this lane; keep order by leaving it alone
                continue
            effect = codec.loads(payload)
            try:
                await self._send(effect)
            except DeliveryError as exc:
                if exc.retryable:
                    blocked.add(lane)
                    await asyncio.to_thread(self._retry_later, item_id, now, str(exc), exc.retry_after)
                else:
                    log.error("dropping outbox item %s (%s): %s", item_id, type(effect).__name__, exc)
                    await asyncio.to_thread(self._done, item_id)
                continue
            except Exception as exc:
                log.exception("unexpected failure sending outbox item %s", item_id)
                blocked.add(lane)
                await asyncio.to_thread(self._retry_later, item_id, now, repr(exc), None)
                continue
            await asyncio.to_thread(self._done, item_id)
            sent += 1
        return sent

    # Database steps (run in a worker thread) -------------------------------------------------------

    def _due(self, now: datetime) -> list[tuple[int, str, str, str]]:
        with self.db.transaction() as session:
            result = session.execute(
                select(OutboxItem.id, OutboxItem.platform, OutboxItem.lane, OutboxItem.effect)
                .where(OutboxItem.next_attempt_at <= now)
                .order_by(OutboxItem.id)
                .limit(500)
            )
            return [(r[0], r[1], r[2], r[3]) for r in result]

    def _claim(self, item_id: int, now: datetime) -> bool:
        with self.db.transaction() as session:
            result = session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, OutboxItem.next_attempt_at <= now)
                .values(next_attempt_at=now + LEASE)
            )
            return bool(getattr(result, "rowcount", 0))

    def _done(self, item_id: int) -> None:
        with self.db.transaction() as session:
            session.execute(delete(OutboxItem).where(OutboxItem.id == item_id))

    def _retry_later(self, item_id: int, now: datetime, error: str, retry_after: float | None) -> None:
        with self.db.transaction() as session:
            item = session.get(OutboxItem, item_id)
            if item is None:
                return
            item.attempts += 1
            if item.attempts >= MAX_ATTEMPTS:
                log.error("giving up on outbox item %s after %s attempts: %s", item_id, item.attempts, error)
                session.delete(item)
                return
            backoff = min(timedelta(seconds=2 ** min(item.attempts, 12)), MAX_BACKOFF)
            if retry_after is not None:
                backoff = max(backoff, timedelta(seconds=retry_after))
            item.next_attempt_at = now + backoff
            item.last_error = error[:500]
            log.warning(
                "delivery of outbox item %s failed (attempt %s), retrying in %ss: %s",
                item_id,
                item.attempts,
                int(backoff.total_seconds()),
                error,
            )

    def _posted(self, key: str) -> PostedMessage | None:
        with self.db.transaction() as session:
            return session.scalar(select(PostedMessage).where(PostedMessage.key == key))

    def _remember(self, key: str, place: Place, message_id: str) -> None:
        with self.db.transaction() as session:
            row = session.scalar(select(PostedMessage).where(PostedMessage.key == key))
            if row is None:
                row = PostedMessage(key=key)
                session.add(row)
            row.platform = place.platform
            row.workspace = place.workspace
            row.channel = place.channel
            row.thread = place.thread
            row.message_id = message_id

    # Sending ---------------------------------------------------------------------------------------

    async def _send(self, effect: Effect) -> None:
        match effect:
            case Post(place=place, reply=reply, key=key, thread_key=thread_key):
                target = place
                if thread_key is not None:
                    root = await asyncio.to_thread(self._posted, thread_key)
                    if root is None:
                        log.warning("thread %s unknown; posting in the channel instead", thread_key)
                    else:
                        target = Place(place.platform, root.workspace, root.channel, root.message_id)
                message_id = await self.messengers[target.platform].post(target, reply)
                if key is not None:
                    await asyncio.to_thread(self._remember, key, target, message_id)
            case Update(key=key, reply=reply):
                posted = await asyncio.to_thread(self._posted, key)
                if posted is None:
                    raise DeliveryError(f"message {key} not posted yet", retryable=True)
                place = Place(posted.platform, posted.workspace, posted.channel, posted.thread)  # type: ignore[arg-type]
                await self.messengers[posted.platform].update(place, posted.message_id, reply)
            case Private(place=place, user_id=user_id, reply=reply):
                await self.messengers[place.platform].post_private(place, user_id, reply)
            case Direct(platform=platform, workspace=workspace, user_id=user_id, reply=reply):
                await self.messengers[platform].post_direct(workspace, user_id, reply)
            case _:
                raise TypeError(f"cannot deliver {effect!r}")
