"""Delivery through an outbox: effects are stored with the change that caused them, then sent.

Why: a platform outage (Slack 5xx, Teams 502) must not lose a person's vote confirmation or a case's head
message. Items are written in the handler's transaction, sent right after it commits, and deleted once
delivered; what fails with a retryable error stays and is retried with backoff.

Lanes keep order without holding others up. Every item belongs to a lane:

* a channel's posts (``slack:T1:C1``) – paced by the platform's per-channel limit;
* one person's private answers in a channel (``slack:T1:C1:private:U1``) – never behind the channel's posts;
* one person's direct messages (``slack:T1:direct:U1``);
* one message's updates (``slack:T1:update:case:7:head``) – a newer update makes the older ones unnecessary
  (coalesced: the last one wins), so a retried old state never overwrites a newer one.

The oldest item of a lane is its head; nothing behind the head is sent while the head waits for its retry,
so order holds across retries and across replicas (the head is the oldest row whatever its due time). Each
lane is worked by its own task: a lane that is paced or rate-limited waits alone. An item claimed by a
replica carries a lease (``next_attempt_at`` in the future) so another replica leaves the lane alone.

Nothing is dropped silently: a refusal that cannot succeed later is logged as an error; an item that keeps
failing for about a day is parked – out of its lane, listed by ``partsbot outbox`` – and put back as soon as
the platform delivers anything again (or by ``partsbot outbox retry``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from bot.chat import codec
from bot.chat.messenger import DeliveryError, Messenger
from bot.chat.model import Direct, Effect, OpenForm, Place, Post, Private, Update
from bot.storage.db import Database
from bot.storage.models import OutboxItem, PostedMessage

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=15)
# After this many failed attempts (about a day with the capped backoff) an item is parked.
MAX_ATTEMPTS = 120
# An update whose message is still on its way (another lane) is tried again soon.
NOT_POSTED_YET = 2.0
# How often a process looks for parked items it did not park itself.
PARKED_CHECK_SECONDS = 60.0
# Lanes worked at once by one process (each mostly waits on the network).
MAX_LANES = 32

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Routing:
    platform: str
    lane: str
    coalesce_key: str | None = None


def _platform_of(effect: Effect, platform: str) -> str:
    match effect:
        case Post(place=place) | Private(place=place) | OpenForm(place=place):
            return place.platform
        case Direct(platform=direct_platform):
            return direct_platform
    return platform


def route(effect: Effect, platform: str, workspace: str) -> Routing:
    """Which lane an effect travels in. ``platform``/``workspace`` are the event's: an update has no place
    of its own and goes where the event came from."""
    if _platform_of(effect, platform) == "console":
        # The local chat is one screen without rate limits: one lane keeps what it prints in order.
        return Routing("console", f"console:{workspace}")
    match effect:
        case Post(place=place) | OpenForm(place=place):
            return Routing(place.platform, f"{place.platform}:{place.workspace}:{place.channel}")
        case Private(place=place, user_id=user_id):
            return Routing(
                place.platform, f"{place.platform}:{place.workspace}:{place.channel}:private:{user_id}"
            )
        case Direct(platform=direct_platform, workspace=direct_workspace, user_id=user_id):
            return Routing(direct_platform, f"{direct_platform}:{direct_workspace}:direct:{user_id}")
        case Update(key=key):
            return Routing(platform, f"{platform}:{workspace}:update:{key}"[:300], f"update:{key}"[:200])
    raise TypeError(f"not an effect: {effect!r}")


def enqueue(
    session: Session,
    effects: list[Effect],
    now: datetime,
    platform: str,
    workspace: str,
    *,
    claim: timedelta | None = None,
    claim_platforms: frozenset[str] = frozenset(),
) -> list[Claimed]:
    """Store effects (all but forms, which only make sense right away) in the outbox.

    With ``claim`` (the caller sends them right after the commit): an item whose lane holds nothing else
    is stored already claimed by this process for that long, and returned – the sender needs no claim
    transaction of its own. An item behind others in its lane is stored due now and waits its turn."""
    items = [(route(e, platform, workspace), e) for e in effects if not isinstance(e, OpenForm)]
    if not items:
        return []
    busy: set[str] = set()
    if claim is not None:
        lanes = sorted({routing.lane for routing, _ in items})
        busy = set(session.connection().execute(_BUSY_LANES, {"lanes": lanes}).scalars())
    rows: list[dict[str, object]] = []
    claims: list[bool] = []
    for routing, effect in items:
        claimed = claim is not None and routing.platform in claim_platforms and routing.lane not in busy
        rows.append(
            {
                "platform": routing.platform,
                "lane": routing.lane,
                "coalesce_key": routing.coalesce_key,
                "effect": codec.dumps(effect),
                "next_attempt_at": now + claim if claimed and claim is not None else now,
                "created_at": now,
            }
        )
        claims.append(claimed)
    # One INSERT for all of them (not the ORM's unit of work: nobody needs the rows as objects).
    ids = session.connection().execute(_INSERT_ITEMS, rows).scalars().all()
    return [
        Claimed(
            item_id,
            str(row["platform"]),
            row["coalesce_key"],  # type: ignore[arg-type]
            str(row["effect"]),
            str(row["lane"]),
            effect,
        )
        for item_id, row, claimed, (_, effect) in zip(ids, rows, claims, items, strict=True)
        if claimed
    ]


# Core statements on the table, built once: the ORM's bulk machinery cost more than the statements.
_TABLE = cast(Table, OutboxItem.__table__)
_INSERT_ITEMS = insert(_TABLE).returning(_TABLE.c.id, sort_by_parameter_order=True)
# Which of some lanes hold items (parked ones are out of their lane).
_BUSY_LANES = (
    select(_TABLE.c.lane)
    .where(_TABLE.c.lane.in_(bindparam("lanes", expanding=True)), _TABLE.c.parked.is_(False))
    .distinct()
)


@dataclass(frozen=True)
class _Head:
    id: int
    platform: str
    coalesce_key: str | None
    effect: str


@dataclass(frozen=True)
class Claimed(_Head):
    """An item stored already claimed by this process (see :func:`enqueue`), with its lane and the effect
    itself (no need to decode what was just encoded)."""

    lane: str
    value: Effect | None = None


class Delivery:
    def __init__(self, db: Database, clock: Clock = _utcnow, *, lease: timedelta | None = None) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease or LEASE
        self.messengers: dict[str, Messenger] = {}
        self._workers: dict[str, asyncio.Task[int]] = {}
        self._again: set[str] = set()
        self._slots: asyncio.Semaphore | None = None
        # Platforms with parked items (learnt when parking, and from the periodic flush).
        self._parked: set[str] = set()
        self._parked_checked_at = float("-inf")
        # Items stored claimed for this process, by lane, waiting for their lane's worker.
        self._claimed: dict[str, list[Claimed]] = {}
        # Delivered claimed items waiting to be removed, in batches (see _finish).
        self._finishing: list[tuple[list[Claimed], asyncio.Future[set[str]]]] = []
        self._finisher: asyncio.Task[None] | None = None

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

    async def flush(
        self,
        only: list[Effect] | None = None,
        platform: str = "",
        workspace: str = "",
        claimed: list[Claimed] | None = None,
    ) -> int:
        """Send everything due now, each lane in its own task; return how many items were delivered.

        With ``only`` (the effects one event just stored), just their lanes: an event does not scan the
        whole outbox nor wait for other people's lanes – the periodic flush takes care of those.
        ``claimed`` are the items :func:`enqueue` stored already claimed for this process: they are sent
        first, without a claim transaction.

        A lane already being worked by this process is not started twice: its worker is told to look again
        (and handed the claimed items) before it ends, and this call waits for it."""
        for head in claimed or ():
            self._claimed.setdefault(head.lane, []).append(head)
        if only is None:
            lanes = await asyncio.to_thread(self._due_lanes, self.clock())
        else:
            lanes = list(
                dict.fromkeys(
                    (routing.lane, routing.platform)
                    for routing in (
                        route(e, platform, workspace) for e in only if not isinstance(e, OpenForm)
                    )
                )
            )
        lanes.extend((head.lane, head.platform) for head in claimed or ())
        return await self._start_lanes(list(dict.fromkeys(lanes)))

    async def _start_lanes(self, lanes: list[tuple[str, str]]) -> int:
        waits: list[asyncio.Task[int]] = []
        for lane, platform in lanes:
            if platform not in self.messengers:
                continue
            worker = self._workers.get(lane)
            if worker is not None and not worker.done():
                self._again.add(lane)
            else:
                worker = asyncio.create_task(self._work(lane))
                self._workers[lane] = worker
                worker.add_done_callback(functools.partial(self._forget, lane))
            waits.append(worker)
        if not waits:
            return 0
        results = await asyncio.gather(*waits, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("an outbox lane failed", exc_info=result)
        return sum(r for r in results if isinstance(r, int))

    def _forget(self, lane: str, task: asyncio.Task[int]) -> None:
        if self._workers.get(lane) is task:
            del self._workers[lane]

    async def _work(self, lane: str) -> int:
        if self._slots is None:
            self._slots = asyncio.Semaphore(MAX_LANES)
        sent = 0
        async with self._slots:
            while True:
                self._again.discard(lane)
                claimed = self._claimed.pop(lane, [])
                if claimed:
                    count, go_on = await self._send_claimed(claimed)
                    sent += count
                    if not go_on:
                        if lane in self._again:
                            continue
                        return sent
                done: int | None = None
                while True:
                    head = await asyncio.to_thread(self._advance, lane, done, self.clock())
                    done = None
                    if head is None:
                        break
                    outcome = await self._deliver(head)
                    if outcome is None:
                        break
                    sent += outcome
                    done = head.id
                if lane not in self._again and lane not in self._claimed:
                    return sent

    async def _send_claimed(self, heads: list[Claimed]) -> tuple[int, bool]:
        """Send items this process claimed when it stored them, in order; returns how many went out and
        whether the lane has more to look at (items stored behind them)."""
        sent = 0
        finished: list[Claimed] = []
        for index, head in enumerate(heads):
            outcome = await self._deliver(head, release=[h.id for h in heads[index + 1 :]])
            if outcome is None:
                break  # the lane waits for this item's retry; the ones behind it were released
            sent += outcome
            finished.append(head)
        if not finished:
            return sent, False
        more = await self._finish(finished)
        return sent, more and len(finished) == len(heads)

    async def _finish(self, heads: list[Claimed]) -> bool:
        """Remove delivered items; the removals of many lanes are written together, in one transaction.
        Returns whether the lane holds more items."""
        future: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
        self._finishing.append((heads, future))
        if self._finisher is None or self._finisher.done():
            self._finisher = asyncio.create_task(self._finish_batches())
        lanes_with_more = await future
        return heads[0].lane in lanes_with_more

    async def _finish_batches(self) -> None:
        while self._finishing:
            batch, self._finishing = self._finishing, []
            heads = [head for group, _ in batch for head in group]
            try:
                more = await asyncio.to_thread(self._remove, heads)
            except Exception as exc:
                # They stay claimed; after their lease they are sent again (at most once more).
                log.exception("delivered outbox items could not be removed")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(more)

    async def _deliver(self, head: _Head, release: list[int] | None = None) -> int | None:
        """Send one claimed item: 1 when sent, 0 when refused for good (it leaves the lane), ``None`` when
        the lane must wait (the item stays, due later; the claimed items in ``release`` become due now, to
        be taken in order behind it)."""
        now = self.clock()
        effect = (
            head.value if isinstance(head, Claimed) and head.value is not None else codec.loads(head.effect)
        )
        try:
            await self._send(effect)
        except DeliveryError as exc:
            if exc.retryable:
                retry_after = exc.retry_after
                if exc.not_posted_yet:
                    retry_after = NOT_POSTED_YET
                await asyncio.to_thread(self._retry_later, head.id, now, str(exc), retry_after, release)
                return None
            # A refusal (archived channel, deleted message) fails the same way every time.
            log.error("outbox item %s (%s) refused, not sent: %s", head.id, type(effect).__name__, exc)
            return 0
        except Exception as exc:
            log.exception("unexpected failure sending outbox item %s", head.id)
            await asyncio.to_thread(self._retry_later, head.id, now, repr(exc), None, release)
            return None
        if head.platform in self._parked:
            await asyncio.to_thread(self._unpark, head.platform, now)
        return 1

    # Database steps (run in a worker thread) -------------------------------------------------------

    def _due_lanes(self, now: datetime) -> list[tuple[str, str]]:
        heads = (
            select(func.min(OutboxItem.id)).where(OutboxItem.parked.is_(False)).group_by(OutboxItem.lane)
        ).scalar_subquery()
        with self.db.transaction() as session:
            rows = session.execute(
                select(OutboxItem.lane, OutboxItem.platform)
                .where(OutboxItem.id.in_(heads), OutboxItem.next_attempt_at <= now)
                .order_by(OutboxItem.id)
                .limit(1000)
            ).all()
            parked: list[str] = []
            if time.monotonic() >= self._parked_checked_at + PARKED_CHECK_SECONDS:
                # Parked items another process left: learnt now and then, not on every event's flush.
                self._parked_checked_at = time.monotonic()
                parked = list(
                    session.scalars(select(OutboxItem.platform).where(OutboxItem.parked.is_(True)).distinct())
                )
        self._parked.update(parked)
        return [(r[0], r[1]) for r in rows]

    def _remove(self, heads: list[Claimed]) -> set[str]:
        """Delete delivered items (older parked updates of the same messages with them); return the lanes
        among theirs that hold more items."""
        with self.db.transaction() as session:
            for head in heads:
                if head.coalesce_key is not None:
                    # Older parked updates of the same message must never come back over this one.
                    session.execute(
                        delete(OutboxItem).where(
                            OutboxItem.coalesce_key == head.coalesce_key,
                            OutboxItem.id < head.id,
                            OutboxItem.parked.is_(True),
                        )
                    )
            session.execute(delete(OutboxItem).where(OutboxItem.id.in_([h.id for h in heads])))
            lanes = sorted({h.lane for h in heads})
            return set(
                session.scalars(
                    select(OutboxItem.lane)
                    .where(OutboxItem.lane.in_(lanes), OutboxItem.parked.is_(False))
                    .distinct()
                )
            )

    def _advance(self, lane: str, done: int | None, now: datetime) -> _Head | None:
        """In one transaction: remove the item just delivered, skip heads a newer update makes
        unnecessary, and claim the lane's next head if it is due."""
        with self.db.transaction() as session:
            if done is not None:
                finished = session.get(OutboxItem, done)
                if finished is not None:
                    if finished.coalesce_key is not None:
                        # Older parked updates of the same message must never come back over this one.
                        session.execute(
                            delete(OutboxItem).where(
                                OutboxItem.coalesce_key == finished.coalesce_key,
                                OutboxItem.id < finished.id,
                                OutboxItem.parked.is_(True),
                            )
                        )
                    session.delete(finished)
            while True:
                head = session.scalars(
                    select(OutboxItem)
                    .where(OutboxItem.lane == lane, OutboxItem.parked.is_(False))
                    .order_by(OutboxItem.id)
                    .limit(1)
                ).first()
                if head is None or head.next_attempt_at > now:
                    return None
                if head.coalesce_key is not None:
                    newer = session.scalar(
                        select(OutboxItem.id)
                        .where(
                            OutboxItem.lane == lane,
                            OutboxItem.coalesce_key == head.coalesce_key,
                            OutboxItem.id > head.id,
                        )
                        .limit(1)
                    )
                    if newer is not None:
                        session.delete(head)
                        session.flush()
                        continue
                claimed = session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id == head.id, OutboxItem.next_attempt_at <= now)
                    .values(next_attempt_at=now + self.lease)
                )
                if not getattr(claimed, "rowcount", 0):
                    return None  # another replica took it: it works this lane now
                return _Head(head.id, head.platform, head.coalesce_key, head.effect)

    def _retry_later(
        self,
        item_id: int,
        now: datetime,
        error: str,
        retry_after: float | None,
        release: list[int] | None = None,
    ) -> None:
        with self.db.transaction() as session:
            if release:
                session.execute(
                    update(OutboxItem).where(OutboxItem.id.in_(release)).values(next_attempt_at=now)
                )
            item = session.get(OutboxItem, item_id)
            if item is None:
                return
            item.attempts += 1
            item.last_error = error[:500]
            if item.attempts >= MAX_ATTEMPTS:
                log.error(
                    "outbox item %s parked after %s attempts (see `partsbot outbox`): %s",
                    item_id,
                    item.attempts,
                    error,
                )
                item.parked = True
                self._parked.add(item.platform)
                return
            backoff = min(timedelta(seconds=2 ** min(item.attempts, 12)), MAX_BACKOFF)
            if retry_after is not None:
                # The platform said when (Retry-After): exactly then, not later.
                backoff = timedelta(seconds=retry_after)
            item.next_attempt_at = now + backoff
            log.warning(
                "delivery of outbox item %s failed (attempt %s), retrying in %ss: %s",
                item_id,
                item.attempts,
                round(backoff.total_seconds(), 1),
                error,
            )

    def _unpark(self, platform: str, now: datetime) -> None:
        """The platform delivers again: parked items go back into their lanes."""
        self._parked.discard(platform)
        with self.db.transaction() as session:
            result = session.execute(
                update(OutboxItem)
                .where(OutboxItem.platform == platform, OutboxItem.parked.is_(True))
                .values(parked=False, attempts=0, next_attempt_at=now)
            )
        count = getattr(result, "rowcount", 0)
        if count:
            log.warning("%s delivers again: %s parked outbox item(s) retried", platform, count)

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

    async def send_now(self, effect: Effect) -> bool:
        """Send one effect that is not in the outbox (an answer meant for an acknowledgement that went out
        without it); a failure is logged, not retried. True when it was sent."""
        try:
            await self._send(effect)
        except Exception:
            log.exception("an answer outside the outbox (%s) could not be sent", type(effect).__name__)
            return False
        return True

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
                    raise DeliveryError(f"message {key} not posted yet", retryable=True, not_posted_yet=True)
                place = Place(posted.platform, posted.workspace, posted.channel, posted.thread)  # type: ignore[arg-type]
                await self.messengers[posted.platform].update(place, posted.message_id, reply)
            case Private(place=place, user_id=user_id, reply=reply):
                await self.messengers[place.platform].post_private(place, user_id, reply)
            case Direct(platform=platform, workspace=workspace, user_id=user_id, reply=reply):
                await self.messengers[platform].post_direct(workspace, user_id, reply)
            case _:
                raise TypeError(f"cannot deliver {effect!r}")


# The operator's view (``partsbot outbox``) ------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    id: int
    platform: str
    lane: str
    kind: str
    attempts: int
    next_attempt_at: datetime
    parked: bool
    last_error: str


def waiting(db: Database, limit: int = 200) -> list[Waiting]:
    """Items not delivered yet, parked ones first: what ``partsbot outbox`` shows (never their content)."""
    with db.transaction() as session:
        rows = session.scalars(
            select(OutboxItem).order_by(OutboxItem.parked.desc(), OutboxItem.id).limit(limit)
        ).all()
        return [
            Waiting(
                r.id,
                r.platform,
                r.lane,
                str(codec.loads(r.effect).__class__.__name__),
                r.attempts,
                r.next_attempt_at,
                r.parked,
                r.last_error,
            )
            for r in rows
        ]


def retry_parked(db: Database, now: datetime) -> int:
    """Put every parked item back into its lane, due now (``partsbot outbox retry``)."""
    with db.transaction() as session:
        result = session.execute(
            update(OutboxItem)
            .where(OutboxItem.parked.is_(True))
            .values(parked=False, attempts=0, next_attempt_at=now)
        )
    return int(getattr(result, "rowcount", 0))
