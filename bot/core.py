"""Partsbot's core: one object that takes neutral events from any adapter, runs the router in a
database transaction, and delivers the effects. Every adapter (console, Slack, Teams) hands its events to
:meth:`Partsbot.handle` – the one dispatch path; Slack and Teams requests come there through the inbox
(:mod:`bot.chat.inbox`), whose item is marked processed in the event's own transaction.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.chat import delivery, detached
from bot.chat.delivery import Delivery
from bot.chat.inbox import Inbox, Receipt, Replayed, mark_processed
from bot.chat.messenger import Messenger
from bot.chat.model import Effect, Event, OpenForm, Submission
from bot.chat.router import Router
from bot.chat.sanitize import clean_event
from bot.settings import Settings, SettingsError
from bot.storage.db import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Events handled in one transaction at most.
BATCH = 32
# What an adapter can send in a request's acknowledgement: given an effect, its rendering for the ack, or
# None when the effect cannot go there (see :meth:`Partsbot.handle_before_ack`).
AnswerPicker = Callable[[Effect], Any]


@dataclass(frozen=True)
class Handled:
    """What handling one event gave: the effects, the outbox items stored claimed for this process, and for
    a request handled before its acknowledgement the effect that goes in the ack (not into the outbox)."""

    effects: list[Effect]
    claimed: list[delivery.Claimed] = field(default_factory=list)
    answered: Effect | None = None
    answer: Any = None  # the picker's rendering of ``answered``
    fresh: bool = True  # False: the request was handled before (a retry or a replay); nothing was done

    @property
    def to_deliver(self) -> list[Effect]:
        return [effect for effect in self.effects if effect is not self.answered]

    @property
    def has_more(self) -> bool:
        """Something is left to deliver after the acknowledgement (most commands have nothing)."""
        return bool(self.claimed or self.to_deliver)


@dataclass
class _Job:
    event: Event
    inbox_id: int | None = None
    receipt: Receipt | None = None
    picker: AnswerPicker | None = None


class _BatchFailed(Exception):
    """An event of a batch raised: the batch is rolled back and each event handled alone."""


def system_clock() -> datetime:
    return datetime.now(UTC)


def _seconds(settings: Settings, name: str) -> timedelta | None:
    raw = settings.extra.get(name, "")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive")
    return timedelta(seconds=value)


class Partsbot:
    def __init__(self, settings: Settings, db: Database, router: Router, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.db = db
        self.router = router
        self.clock = clock
        self.delivery = Delivery(db, clock, lease=_seconds(settings, "PARTSBOT_OUTBOX_LEASE_SECONDS"))
        self.inbox = Inbox(db, clock, lease=_seconds(settings, "PARTSBOT_INBOX_LEASE_SECONDS"))
        # Events waiting to be handled, and the tasks handling them in batches: SQLite has one writer at a
        # time, so one batch at a time; PostgreSQL overlaps a few.
        self._waiting: list[tuple[_Job, asyncio.Future[Handled]]] = []
        self._batchers: set[asyncio.Task[None]] = set()
        # On PostgreSQL one per core, two to four: a batch is mostly Python work (the ORM) between short
        # round trips to the database, so more threads than cores mostly take turns at the GIL (bench_serve:
        # 1.17 ms CPU per command with two on two cores, 1.23-1.27 ms with four).
        self._max_batchers = min(4, max(2, os.cpu_count() or 2)) if db.is_postgres else 1

    def add_messenger(self, messenger: Messenger) -> None:
        self.delivery.register(messenger)

    def handle_sync(self, event: Event, inbox_id: int | None = None) -> list[Effect]:
        """Handle one event in one transaction; store its effects in the outbox. Returns the effects.

        With ``inbox_id`` the inbox item is marked processed in the same transaction; when another replica
        processed it already, nothing happens and nothing is returned.
        """
        return self._handle_sync(_Job(event, inbox_id), claim=False).effects

    def _handle_sync(self, job: _Job, *, claim: bool) -> Handled:
        """``claim``: the caller delivers right after, so outbox items at the head of an empty lane are
        stored claimed for this process (no claim transaction per item)."""
        event = clean_event(job.event)
        for attempt in (1, 2):
            try:
                with self.db.transaction(urgent=job.receipt is not None) as session:
                    done, later = self._handle_in(session, event, job, self.clock(), claim)
                return self._with_detached(done, later, event)
            except (IntegrityError, OperationalError):
                # A first contact racing another (two new members at once) or a serialisation failure
                # on PostgreSQL: the whole event is retried once from a clean state.
                if attempt == 2:
                    raise
                log.info("retrying event after a conflicting write", exc_info=True)
        raise AssertionError("unreachable")

    def _handle_in(
        self, session: Session, event: Event, job: _Job, now: datetime, claim: bool
    ) -> tuple[Handled, list[detached.DetachedWrite]]:
        """One event inside the caller's transaction: what it gave, and its detached writes."""
        if job.inbox_id is not None and not mark_processed(session, job.inbox_id, now):
            log.info("inbox item %s was processed already; skipped", job.inbox_id)
            return Handled([], fresh=False), []
        try:
            effects = self.router.handle(session, self.settings, event, now, job.receipt)
        except Replayed:
            assert job.receipt is not None
            log.info("%s %s seen before; skipped", job.receipt.platform, job.receipt.kind)
            return Handled([], fresh=False), []
        answered, answer = None, None
        if job.picker is not None:
            for effect in effects:
                answer = job.picker(effect)
                if answer is not None:
                    answered = effect
                    break
        claimed = delivery.enqueue(
            session,
            [effect for effect in effects if effect is not answered],
            now,
            event.place.platform,
            event.place.workspace,
            claim=self.delivery.lease if claim else None,
            claim_platforms=frozenset(self.delivery.messengers),
        )
        return Handled(effects, claimed, answered, answer), detached.take(session)

    def _with_detached(self, done: Handled, later: list[detached.DetachedWrite], event: Event) -> Handled:
        if not later:
            return done
        extra = self._run_detached(later, event)
        return Handled(done.effects + extra, done.claimed, done.answered, done.answer, done.fresh)

    def _handle_batch(self, jobs: list[_Job]) -> list[Handled | BaseException]:
        """Several events in one transaction: one commit (one WAL write, on PostgreSQL one flush to disk)
        and one trip to a worker thread instead of one each. An event whose handling raises (rare: the
        router turns a person's mistake or a handler's failure into an answer inside its own savepoint)
        rolls the whole batch back, and then every event of it is handled again alone, so a failure touches
        only its own event. No savepoint per event: releasing one cost more than the rare re-run.
        Anonymous contributions still get transactions of their own, after the commit
        (:mod:`bot.chat.detached`)."""
        if len(jobs) == 1:
            try:
                return [self._handle_sync(jobs[0], claim=True)]
            except Exception as exc:
                return [exc]
        done: dict[int, tuple[Event, Handled, list[detached.DetachedWrite]]] = {}
        urgent = any(job.receipt is not None for job in jobs)
        try:
            with self.db.transaction(urgent=urgent) as session:
                for index, job in enumerate(jobs):
                    event = clean_event(job.event)
                    try:
                        handled, later = self._handle_in(session, event, job, self.clock(), True)
                    except Exception as exc:
                        detached.take(session)
                        log.info("event %s of a batch failed; each event is handled again alone", index)
                        raise _BatchFailed from exc
                    done[index] = (event, handled, later)
        except (_BatchFailed, IntegrityError, OperationalError):
            log.info("a batch of events could not be committed; each is handled again alone", exc_info=True)
            done = {}
        results: list[Handled | BaseException] = []
        for index, job in enumerate(jobs):
            try:
                if index in done:
                    cleaned, handled, later = done[index]
                    results.append(self._with_detached(handled, later, cleaned))
                else:
                    results.append(self._handle_sync(job, claim=True))
            except Exception as exc:
                results.append(exc)
        return results

    def check_sync(self, submission: Submission) -> dict[str, str]:
        """What is wrong with a form's fields (field name → text), checked by its handler without keeping
        anything; empty when the form can be submitted (and for forms that do not opt in to checks)."""
        if not self.router.checks(submission.form_id):
            return {}
        with self.db.transaction() as session:
            return self.router.check(session, self.settings, submission, self.clock())

    async def check(self, submission: Submission) -> dict[str, str]:
        return await asyncio.to_thread(self.check_sync, submission)

    def _run_detached(self, items: list[detached.DetachedWrite], event: Event) -> list[Effect]:
        """Anonymous contributions, each in a transaction of its own after the event's has committed."""
        place = event.place

        def enqueue(session: Session, effects: list[Effect], now: datetime) -> None:
            delivery.enqueue(session, effects, now, place.platform, place.workspace)

        produced: list[Effect] = []
        for item in items:
            produced.extend(detached.run(self.db, item, self.clock(), enqueue))
        return produced

    async def handle(
        self,
        event: Event,
        inbox_id: int | None = None,
        *,
        spawn: Callable[[Coroutine[Any, Any, None]], None] | None = None,
    ) -> list[Effect]:
        """Handle an event and deliver what it produced. Never raises for a person's mistake.

        ``spawn`` runs the delivery in the caller's background tasks instead of waiting for it (Teams
        answers its request after the transaction, before anything is sent)."""
        handled = await self._handled(_Job(event, inbox_id))
        if spawn is not None:
            spawn(self._deliver(handled.effects, event, handled.claimed))
        else:
            await self._deliver(handled.effects, event, handled.claimed)
        return handled.effects

    def handle_before_ack(
        self, event: Event, receipt: Receipt, picker: AnswerPicker
    ) -> asyncio.Future[Handled]:
        """Handle a request before it is acknowledged, so its answer can go in the acknowledgement.

        The request's key is remembered in the event's own transaction (see
        :func:`bot.chat.router.who_and_where`): a retry or a replay comes back with ``fresh=False`` and
        changes nothing. The first effect ``picker`` can render is left out of the outbox and returned with
        its rendering; the caller acknowledges with it and then delivers the rest (:meth:`deliver`). Nothing
        is acknowledged that is not stored: if this fails or the process dies first, the platform sees no
        acknowledgement.

        A future, not a coroutine: the caller waits for it with a time limit, and a task around it (which
        the limit would need to be safe to cancel) cost more per command than the rest of the wait."""
        return self._submit(_Job(event, receipt=receipt, picker=picker))

    async def deliver(self, handled: Handled, event: Event) -> None:
        """Deliver what :meth:`handle_before_ack` left for after the acknowledgement."""
        await self._deliver(handled.to_deliver, event, handled.claimed)

    def waiting(self) -> int:
        """Events waiting for a transaction in this process (a measure of how busy it is)."""
        return len(self._waiting)

    async def _handled(self, job: _Job) -> Handled:
        """Handle an event together with the others waiting at this moment (see :meth:`_handle_batch`)."""
        return await self._submit(job)

    def _submit(self, job: _Job) -> asyncio.Future[Handled]:
        future: asyncio.Future[Handled] = asyncio.get_running_loop().create_future()
        self._waiting.append((job, future))
        # A batcher that is not done yet will look at the queue again; a done one (its callback that
        # forgets it may not have run yet) will not.
        if sum(not task.done() for task in self._batchers) < self._max_batchers:
            task = asyncio.create_task(self._run_batches())
            self._batchers.add(task)
            task.add_done_callback(self._batchers.discard)
        return future

    async def _run_batches(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            try:
                results = await asyncio.to_thread(self._handle_batch, [job for job, _ in batch])
            except Exception as exc:
                results = [exc] * len(batch)
            for (_job, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def _deliver(self, effects: list[Effect], event: Event, claimed: list[delivery.Claimed]) -> None:
        for effect in effects:
            if isinstance(effect, OpenForm):
                await self.delivery.open_form(effect)
        # Only this event's lanes: what else waits is the periodic flush's (bot/web.py).
        await self.delivery.flush(effects, event.place.platform, event.place.workspace, claimed)
