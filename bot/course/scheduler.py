"""The course scheduler: APScheduler's AsyncIOScheduler beats, :func:`tick` decides and sends.

Durable intent lives in our own tables (due nudges, check-in rounds, the send ledger), not in APScheduler's
job store: APScheduler only calls :meth:`CourseScheduler.beat` every ``interval`` seconds. A beat that finds
this replica the leader runs :func:`tick`, which

1. runs the toolbox's own time hooks (closing votes, asking after meetings), each in its transaction;
2. asks every source (nudges, check-ins, summaries, action reminders) what is due;
3. sends each due job in ONE transaction: insert its ledger row (unique key), build the messages, put them in
   the outbox; then flushes the outbox.

So a crash before the commit leaves no trace and the next tick sends; a crash after it leaves the outbox to
deliver on restart; a second replica or a repeated tick hits the unique key and sends nothing. Time is
always compared as instants (UTC), so the daylight-saving changes neither skip nor double anything.

Leadership: on PostgreSQL the replica holding a session advisory lock on a connection of its own ticks;
when it dies its connection closes, the lock is released, and the next beat of another replica takes it.
On SQLite there is one process and it always leads (the ledger would still stop doubles).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from bot.chat import delivery
from bot.chat.delivery import Delivery
from bot.chat.model import Effect, OpenForm
from bot.chat.router import Router
from bot.course import actions, checkin, nudges, retention, summary
from bot.course.audience import organisation_of
from bot.course.jobs import Job, JobSource, Skip
from bot.course.models import SendLedger
from bot.settings import Settings
from bot.storage.db import Database, duplicate_key
from bot.storage.models import Unit
from bot.toolbox import followup, hora

log = logging.getLogger(__name__)

# "Partsbot" in ASCII as one signed 64-bit number: the advisory lock every replica competes for.
LOCK_KEY = int.from_bytes(b"Partsbot", "big")
DEFAULT_INTERVAL = 30.0
# A job that keeps failing is tried again after 1, 2, 4 … minutes, never less often than hourly.
FAILED_JOB_MAX_WAIT = timedelta(hours=1)
# The send ledger's unique key (bot.storage.models.NAMING): a collision on it, and only on it, means "sent
# before".
LEDGER_KEY = "uq_course_send_ledger_key"


class Bot(Protocol):
    """What the scheduler uses of :class:`bot.core.Partsbot`. The course sits beneath the core (see the
    import contracts in pyproject.toml), so it names the parts it needs instead of importing the class."""

    settings: Settings
    db: Database
    router: Router
    clock: Callable[[], datetime]
    delivery: Delivery


@dataclass
class TickReport:
    sent: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # Failed before and not due for another try yet (FailedJobs).
    waiting: list[str] = field(default_factory=list)
    # How many messages each sent job put in the outbox (0: nobody to send to, e.g. everyone answered).
    messages: dict[str, int] = field(default_factory=dict)
    delivered: int = 0


def sources(bot: Bot) -> list[tuple[str, JobSource]]:
    return [
        ("nudges", nudges.due_jobs),
        ("checkin", checkin.due_jobs),
        ("summary", partial(summary.due_jobs, charts=summary.chart_dir(bot.settings))),
        ("actions", actions.due_jobs),
    ]


def _toolbox_hooks(bot: Bot) -> list[tuple[str, Callable[[Session, datetime], object]]]:
    """Time hooks that are not course jobs, each run in its own transaction: the toolbox's follow-ups
    (they enqueue what they send) and the course's retention (markers of closed rounds, delivered charts)."""
    return [
        ("close_due_votes", partial(followup.close_due_votes, steps=bot.router.steps, settings=bot.settings)),
        ("due_meeting_followups", hora.due_meeting_followups),
        ("forget_closed_markers", retention.forget_closed_markers),
        ("forget_stale_reflections", retention.forget_stale_reflections),
        ("anonymise_closed_cases", partial(retention.anonymise_closed_cases, settings=bot.settings)),
        ("delete_removed_organisations", retention.delete_removed_organisations),
        (
            "delete_delivered_charts",
            partial(retention.delete_delivered_charts, folder=summary.chart_dir(bot.settings)),
        ),
    ]


def _run_hooks(bot: Bot, now: datetime) -> None:
    for name, hook in _toolbox_hooks(bot):
        try:
            with bot.db.transaction() as session:
                hook(session, now)
        except Exception:
            log.exception("toolbox hook %s failed", name)


def _collect(bot: Bot, now: datetime) -> list[Job]:
    jobs: list[Job] = []
    for name, source in sources(bot):
        try:
            with bot.db.transaction() as session:
                jobs.extend(source(session, now))
        except Exception:
            # One broken source must not stop the others (a summary bug must not silence nudges).
            log.exception("course source %s failed", name)
    return jobs


def send_job(
    db: Database, job: Job, now: datetime, enqueue_at: datetime, report: TickReport | None = None
) -> str:
    """Ledger row, messages and outbox items in one transaction. Returns sent|duplicate|skipped|failed."""
    effects: list[Effect] = []
    try:
        with db.transaction() as session:
            session.add(SendLedger(key=job.key, sent_at=now))
            session.flush()  # the unique key answers "was this sent before?" for every replica at once
            effects = job.make(session, now)
            unit = session.get(Unit, job.unit_id)
            org = organisation_of(session, unit) if unit is not None else None
            delivery.enqueue(
                session, effects, enqueue_at, org.platform if org else "", org.external_id if org else ""
            )
    except IntegrityError as exc:
        if duplicate_key(exc) != LEDGER_KEY:
            # Any other constraint is a bug in the job, not a second replica: retried, and loud.
            log.error("course job %s broke a constraint; it is tried again on the next tick", job.key)
            return "failed"
        log.info("course job %s was sent before; skipped", job.key)
        return "duplicate"
    except Skip:
        return "skipped"
    except Exception:
        log.exception("course job %s failed; it is tried again on the next tick", job.key)
        return "failed"
    for work in job.after_commit:
        try:
            work()
        except Exception:
            # The message went out without its picture: the messenger logs the missing file.
            log.exception("course job %s: drawing after the send failed", job.key)
    if report is not None:
        report.messages[job.key] = sum(1 for e in effects if not isinstance(e, OpenForm))
    return "sent"


class FailedJobs:
    """Jobs that failed, and when they may be tried again: 1, 2, 4 … minutes, at most an hour apart.

    Without it a job that fails every time (a bug, a unit in a bad state) was retried – and logged with a
    traceback – on every beat, every 30 seconds. Kept by the scheduler instance; a restart tries at once.
    """

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, datetime]] = {}

    def may_try(self, key: str, now: datetime) -> bool:
        entry = self._failures.get(key)
        return entry is None or entry[1] <= now

    def failed(self, key: str, now: datetime) -> None:
        count = self._failures.get(key, (0, now))[0] + 1
        self._failures[key] = (count, now + min(timedelta(minutes=2 ** (count - 1)), FAILED_JOB_MAX_WAIT))

    def done(self, key: str) -> None:
        self._failures.pop(key, None)


def run_due(bot: Bot, now: datetime, failures: FailedJobs | None = None) -> TickReport:
    """The synchronous part of a tick (runs in a worker thread)."""
    report = TickReport()
    # Whatever clock the caller used, the messages are due at once.
    enqueue_at = min(now.astimezone(UTC), bot.clock().astimezone(UTC))
    _run_hooks(bot, now)
    for job in _collect(bot, now):
        if failures is not None and not failures.may_try(job.key, now):
            report.waiting.append(job.key)
            continue
        outcome = send_job(bot.db, job, now, enqueue_at, report)
        if failures is not None:
            if outcome == "failed":
                failures.failed(job.key, now)
            else:
                failures.done(job.key)
        {"sent": report.sent, "duplicate": report.duplicates, "skipped": report.skipped}.get(
            outcome, report.failed
        ).append(job.key)
    return report


def next_due(bot: Bot, now: datetime) -> datetime | None:
    """The next moment after ``now`` when a nudge, check-in, reminder or summary falls due (action reminders
    and the toolbox hooks are left to the regular beat). The demo uses it to jump through simulated time."""
    found: list[datetime] = []
    with bot.db.transaction() as session:
        for next_at in (nudges.next_at, checkin.next_at, summary.next_at):
            moment = next_at(session, now)
            if moment is not None:
                found.append(moment.astimezone(UTC))
    return min(found) if found else None


async def tick(bot: Bot, now: datetime, failures: FailedJobs | None = None) -> TickReport:
    """Send everything due at ``now``, then deliver the outbox. Safe to call any number of times."""
    report = await asyncio.to_thread(run_due, bot, now, failures)
    report.delivered = await bot.delivery.flush()
    return report


# Leadership ----------------------------------------------------------------------------------------------


class Leadership:
    """Whether this process may tick: a PostgreSQL session advisory lock, or always on SQLite."""

    def __init__(self, url: str, key: int = LOCK_KEY) -> None:
        self.url = url
        # Advisory locks are per database; tests sharing one database give each run a key of its own.
        self.key = key
        self.is_postgres = url.startswith("postgresql")
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self.is_leader = not self.is_postgres

    def acquire(self) -> bool:
        """Keep or take the lead; False when another replica holds it or the database is unreachable."""
        if not self.is_postgres:
            return True
        try:
            conn = self._connection()
            if self.is_leader:
                conn.execute(text("SELECT 1"))  # the lock lives as long as this session does
                return True
            self.is_leader = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            )
            if self.is_leader:
                log.info("this replica is now the course scheduler leader")
            return self.is_leader
        except SQLAlchemyError:
            log.warning("lost the scheduler lock connection; trying again on the next beat", exc_info=True)
            self._drop()
            return False

    def _connection(self) -> Connection:
        if self._conn is None:
            if self._engine is None:
                # A connection of its own, outside the pool and outside any transaction: the lock must not
                # go back to a pool with it, and an idle open transaction would hold back vacuum.
                self._engine = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
            self._conn = self._engine.connect()
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
        self._conn = None
        self.is_leader = not self.is_postgres

    def release(self) -> None:
        """Give the lead up and close the connection.

        Closing the session would release the lock too, but the server ends a closed session a moment
        later; unlocking first hands the lead over at once, so a replica's next beat can take it.
        """
        if self.is_postgres and self.is_leader and self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        self._drop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class CourseScheduler:
    """What ``partsbot serve`` and the console chat start: beats every ``interval`` seconds."""

    def __init__(
        self,
        bot: Bot,
        *,
        interval: float = DEFAULT_INTERVAL,
        lock_url: str | None = None,
        lock_key: int = LOCK_KEY,
    ) -> None:
        self.bot = bot
        self.interval = interval
        self.leadership = Leadership(lock_url or bot.db.url, lock_key)
        self.failures = FailedJobs()
        self._scheduler: AsyncIOScheduler | None = None

    @property
    def is_leader(self) -> bool:
        return self.leadership.is_leader

    def start(self) -> None:
        """Start beating; call with the event loop running (aiohttp's startup, the console chat)."""
        if self._scheduler is not None:
            return
        scheduler = AsyncIOScheduler(timezone=ZoneInfo(self.bot.settings.timezone))
        scheduler.add_job(
            self.beat,
            "interval",
            seconds=self.interval,
            id="course.beat",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(self.interval)),
        )
        scheduler.start()
        self._scheduler = scheduler

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self.leadership.release()

    async def beat(self) -> TickReport | None:
        """One heartbeat: tick if this replica leads. Never raises (APScheduler would only log it)."""
        try:
            if not await asyncio.to_thread(self.leadership.acquire):
                return None
            return await tick(self.bot, self.bot.clock(), self.failures)
        except Exception:
            log.exception("course scheduler beat failed")
            return None


def build_scheduler(
    bot: Bot, *, interval: float = DEFAULT_INTERVAL, lock_url: str | None = None
) -> CourseScheduler:
    """The scheduler ``partsbot serve`` and the console chat start and stop with the event loop."""
    return CourseScheduler(bot, interval=interval, lock_url=lock_url)
