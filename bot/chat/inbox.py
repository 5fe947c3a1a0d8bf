"""The inbox: every incoming platform request is stored before it is acknowledged, then processed from here.

Why: Slack does not resend a command, an interaction or an event it saw acknowledged, and Bot Connector
does not resend an Activity that got its 200. Work that only lived in memory after the ack was lost when
the process died (``kill -9`` under load lost 114 of 152 acknowledged commands). Now:

1. ``receive`` is one small insert (``platform``, ``key``) before the ack. The key is the platform's own id
   of the request, so a retry or a replay hits the unique constraint and is acknowledged without doing
   anything again.
2. The receiving process holds a short claim (``claimed_until``) and processes the item at once.
3. The adapter's processor turns the payload into neutral events and hands each to
   :meth:`bot.core.Partsbot.handle` with the item's id; marking the item processed happens in the same
   database transaction as the change it caused, so it is done exactly once even when two replicas race.
4. ``recover`` (at start and every few seconds) claims items whose claim ran out unprocessed – the process
   died, or processing failed – and processes them again; on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so
   replicas take different items.

Processed rows keep only their key (the payload, which names the person and holds what they wrote, is
erased in the processing transaction) for a day – the platforms retry within minutes, a signed Slack request
is valid for five – then they are pruned.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.models import InboxItem

log = logging.getLogger(__name__)

# How long a process may work on an item before another may take it over. Processing takes well under a
# second; a takeover is harmless (the processed mark decides), only wasted work.
DEFAULT_LEASE = timedelta(seconds=20)
# Requests stored in one transaction at most.
STORE_BATCH = 64
# A payload that crashes its processor this often is given up (logged as an error, kept for a day).
MAX_ATTEMPTS = 5
KEEP = timedelta(days=1)
RECOVER_BATCH = 50
# Items one process works on at once (each mostly waits: the platform's API, the database), and how many
# acknowledged items may wait in memory for them.
WORKERS = 16
MAX_QUEUED = 2000

Clock = Callable[[], datetime]
# A request to store: (platform, key, kind, payload).
_Request = tuple[str, str, str, dict[str, Any]]


@dataclass(frozen=True)
class Received:
    """An inbox item as a processor sees it."""

    id: int
    platform: str
    kind: str
    payload: dict[str, Any]


# Turns an item into neutral events and hands them to ``Partsbot.handle(event, inbox_id=item.id)``; returns
# True when that marked the item processed, False when the item caused no event (the inbox marks it).
Processor = Callable[[Received], Awaitable[bool]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def mark_processed(session: Session, item_id: int, now: datetime) -> bool:
    """In the caller's transaction: claim the right to have processed this item. ``False`` when it was
    processed already (another replica won): the caller must then change nothing.

    The payload is erased in the same step: it names the person and holds what they wrote (an anonymous
    question, too), and only the key is needed afterwards, to recognise a retry or a replay."""
    result = session.connection().execute(_MARK_PROCESSED, {"item_id": item_id, "now": now})
    return bool(getattr(result, "rowcount", 0))


# Statements of every request, built once (building them cost more than running them). They are Core
# statements on the table, run on the session's connection: the ORM's bulk machinery around an insert or
# an update of mapped classes cost more than the statement itself, and nobody needs the rows as objects.
_TABLE = cast(Table, InboxItem.__table__)
_MARK_PROCESSED = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("item_id"), _TABLE.c.processed_at.is_(None))
    .values(processed_at=bindparam("now"), payload="")
)


def _dialect_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's INSERT (with ON CONFLICT), imported only for the database in use: SQLAlchemy's
    PostgreSQL dialect alone is 2.4 MB a SQLite server need not hold."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


@functools.cache
def _insert_for(dialect: str, *, handled: bool, prefix: str = "") -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: no row back when the key was stored before.

    ``handled``: the request is handled in this very transaction, before its acknowledgement – stored
    processed, with its key only (no payload: if the transaction does not commit, nothing was
    acknowledged). Otherwise stored with its payload and claimed for a while by the receiving process.
    ``prefix`` names its parameters apart from those of a query it becomes part of."""
    values: dict[str, Any] = {
        "platform": bindparam(f"{prefix}platform"),
        "key": bindparam(f"{prefix}key"),
        "kind": bindparam(f"{prefix}kind"),
        "received_at": bindparam(f"{prefix}now"),
        "attempts": 1,
        "last_error": "",
    }
    if handled:
        values.update(
            payload="", claimed_until=bindparam(f"{prefix}now"), processed_at=bindparam(f"{prefix}now")
        )
    else:
        values.update(payload=bindparam("payload"), claimed_until=bindparam("claimed_until"))
    return (
        _dialect_insert(dialect)(_TABLE)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["platform", "key"])
        .returning(_TABLE.c.id)
    )


@dataclass(frozen=True)
class Receipt:
    """A request handled at once, before it is acknowledged (see :func:`record_handled`)."""

    platform: str
    key: str
    kind: str


class Replayed(Exception):
    """The request of a :class:`Receipt` was handled before (a retry or a replay): change nothing."""


_RECEIPT = "receipt_"


def record_handled(session: Session, receipt: Receipt, now: datetime) -> bool:
    """In the transaction of the change a request causes, before it is acknowledged: remember its key as
    processed. ``False`` when the key was stored before (a retry or a replay): the caller must then change
    nothing. One insert does what ``store`` + ``mark_processed`` do for requests handled later, and the
    payload is never written at all: if the transaction does not commit, nothing was acknowledged."""
    connection = session.connection()
    statement = _insert_for(connection.dialect.name, handled=True)
    return connection.execute(statement, receipt_parameters(receipt, now, prefix="")).scalar() is not None


@functools.cache
def recorded_cte() -> Any:
    """PostgreSQL: :func:`record_handled`'s insert as a common table expression, for the query every event
    runs first anyway (:func:`bot.chat.router.who_and_where`): one round trip less per request. It has a
    row when the key is new. Its parameters come from :func:`receipt_parameters`."""
    return _insert_for("postgresql", handled=True, prefix=_RECEIPT).cte("recorded")


def receipt_parameters(receipt: Receipt, now: datetime, prefix: str = _RECEIPT) -> dict[str, Any]:
    """The parameters of the handled-request insert, named with ``prefix`` as :func:`_insert_for` is."""
    return {
        f"{prefix}platform": receipt.platform,
        f"{prefix}key": receipt.key[:128],
        f"{prefix}kind": receipt.kind[:32],
        f"{prefix}now": now,
    }


class Inbox:
    def __init__(self, db: Database, clock: Clock = _utcnow, *, lease: timedelta | None = None) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease or DEFAULT_LEASE
        self._processors: dict[str, Processor] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._queue: collections.deque[Received] = collections.deque()
        self._arriving: list[tuple[_Request, asyncio.Future[Received | None]]] = []
        self._storer: asyncio.Task[None] | None = None
        self._pruned_at: datetime | None = None

    def register(self, platform: str, processor: Processor) -> None:
        self._processors[platform] = processor

    # Before the ack --------------------------------------------------------------------------------

    def store(self, platform: str, key: str, kind: str, payload: dict[str, Any]) -> Received | None:
        """Insert the request; ``None`` when the same key was stored before (a retry or a replay)."""
        return self.store_many([(platform, key, kind, payload)])[0]

    def store_many(self, requests: list[_Request]) -> list[Received | None]:
        """Insert requests in one transaction (each one ``None`` when its key was stored before). Nothing is
        acknowledged before this commits; sharing the commit only means the requests that arrived together
        are acknowledged together."""
        now = self.clock()
        statement = _insert_for(self.db.engine.dialect.name, handled=False)
        stored: list[Received | None] = []
        with self.db.transaction(urgent=True) as session:
            for platform, key, kind, payload in requests:
                values = {
                    "platform": platform,
                    "key": key[:128],
                    "kind": kind[:32],
                    "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str),
                    "now": now,
                    "claimed_until": now + self.lease,
                }
                item_id = session.connection().execute(statement, values).scalar()
                stored.append(None if item_id is None else Received(item_id, platform, kind, payload))
        return stored

    async def receive(self, platform: str, key: str, kind: str, payload: dict[str, Any]) -> Received | None:
        """Store a request before it is acknowledged: requests arriving together share one transaction."""
        future: asyncio.Future[Received | None] = asyncio.get_running_loop().create_future()
        self._arriving.append(((platform, key, kind, payload), future))
        if self._storer is None or self._storer.done():
            self._storer = asyncio.create_task(self._store_arrivals())
        return await future

    async def _store_arrivals(self) -> None:
        while self._arriving:
            batch, self._arriving = self._arriving[:STORE_BATCH], self._arriving[STORE_BATCH:]
            try:
                stored = await asyncio.to_thread(self.store_many, [request for request, _ in batch])
            except Exception as exc:
                # Not stored, so not acknowledged: the platform sees an error and sends it again.
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), item in zip(batch, stored, strict=True):
                if not future.done():
                    future.set_result(item)

    # Processing ------------------------------------------------------------------------------------

    def start(self, item: Received) -> None:
        """Process in the background (after the ack), by one of at most ``WORKERS`` tasks.

        Under a burst the acknowledged items queue here, and past ``MAX_QUEUED`` they wait in the database
        only (their claim runs out and :meth:`recover` takes them): the backlog of a slow moment does not
        become thousands of tasks and their memory."""
        if len(self._queue) >= MAX_QUEUED:
            log.warning("inbox queue full; %s item %s waits in the database", item.platform, item.id)
            return
        self._queue.append(item)
        # A worker that is not done yet takes the next item; a done one (whose callback that forgets it may
        # not have run yet) does not.
        if sum(not task.done() for task in self._tasks) < WORKERS:
            task = asyncio.create_task(self._work())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _work(self) -> None:
        while self._queue:
            await self.process(self._queue.popleft())

    async def process(self, item: Received) -> None:
        processor = self._processors.get(item.platform)
        if processor is None:
            log.error("no processor for %s inbox item %s; it waits for one", item.platform, item.id)
            return
        try:
            marked = await processor(item)
        except Exception as exc:
            # Left unprocessed with its claim running out: recover() tries again later.
            log.exception("processing %s inbox item %s (%s) failed", item.platform, item.id, item.kind)
            await asyncio.to_thread(self._failed, item.id, repr(exc))
            return
        if not marked:
            await asyncio.to_thread(self.finish, item.id)

    def finish(self, item_id: int) -> None:
        with self.db.transaction() as session:
            mark_processed(session, item_id, self.clock())

    def _failed(self, item_id: int, error: str) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(InboxItem)
                .where(InboxItem.id == item_id, InboxItem.processed_at.is_(None))
                .values(last_error=error[:500])
            )

    async def drain(self, seconds: float) -> None:
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=seconds)
        for task in pending:
            task.cancel()

    def busy(self) -> int:
        return len(self._tasks) + len(self._queue)

    # After a crash ---------------------------------------------------------------------------------

    def claim_stale(self, limit: int = RECOVER_BATCH) -> list[Received]:
        """Take unprocessed items whose claim has run out (oldest first), for this process."""
        now = self.clock()
        claimed: list[Received] = []
        with self.db.transaction() as session:
            query = (
                select(InboxItem)
                .where(
                    InboxItem.processed_at.is_(None),
                    InboxItem.claimed_until <= now,
                    InboxItem.platform.in_(sorted(self._processors)),
                )
                .order_by(InboxItem.id)
                .limit(limit)
            )
            if self.db.is_postgres:
                # Replicas recovering at once take different items instead of queueing on the same rows.
                query = query.with_for_update(skip_locked=True)
            for row in session.scalars(query):
                if row.attempts >= MAX_ATTEMPTS:
                    log.error(
                        "giving up on %s inbox item %s (%s) after %s attempts: %s",
                        row.platform,
                        row.id,
                        row.kind,
                        row.attempts,
                        row.last_error,
                    )
                    row.processed_at = now
                    row.payload = ""
                    continue
                row.attempts += 1
                row.claimed_until = now + self.lease
                claimed.append(Received(row.id, row.platform, row.kind, json.loads(row.payload)))
        return claimed

    async def recover(self) -> int:
        """Process what a dead process (or a failed attempt) left behind; returns how many items."""
        items = await asyncio.to_thread(self.claim_stale)
        ready = [item for item in items if item.platform in self._processors]
        if ready:
            log.info("recovering %s unprocessed inbox item(s)", len(ready))
            await asyncio.gather(*(self.process(item) for item in ready))
        await asyncio.to_thread(self._maybe_prune)
        return len(ready)

    def _maybe_prune(self) -> None:
        now = self.clock()
        if self._pruned_at is not None and now - self._pruned_at < timedelta(minutes=10):
            return
        self._pruned_at = now
        with self.db.transaction() as session:
            session.execute(
                delete(InboxItem).where(
                    InboxItem.processed_at.is_not(None), InboxItem.received_at < now - KEEP
                )
            )
