"""Scheduler leadership on PostgreSQL: one replica holds the advisory lock and ticks; when its connection
dies (the process crashed), another replica takes the lead on its next beat."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC

import pytest
from sqlalchemy import create_engine, text

from bot.course.scheduler import LOCK_KEY, CourseScheduler, Leadership
from bot.storage.migrate import MIGRATION_LOCK_KEY
from tests.console_driver import ConsoleDriver
from tests.course.course_helpers import oslo, team


def _terminate(postgres_url: str, leadership: Leadership) -> None:
    """Kill the leader's database session from outside, as a crashed process or a network cut would."""
    assert leadership._conn is not None
    pid = leadership._conn.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # With a timeout (PostgreSQL 14+) the call waits until the backend has exited and so released its
        # advisory lock; without one it returns once the signal is sent, and the takeover raced it.
        assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()
    admin.dispose()


@pytest.fixture
def key() -> int:
    """A lock key of this test's own: two test runs sharing a database must not take each other's lead."""
    return secrets.randbits(62)


@pytest.fixture
def pair(postgres_url: str, key: int) -> Iterator[tuple[Leadership, Leadership]]:
    first, second = Leadership(postgres_url, key), Leadership(postgres_url, key)
    yield first, second
    first.release()
    second.release()


def test_one_leader_and_failover_when_its_connection_closes(pair: tuple[Leadership, Leadership]) -> None:
    first, second = pair
    assert first.acquire() is True
    assert second.acquire() is False
    assert first.acquire() is True  # keeps the lead beat after beat
    assert second.acquire() is False
    first.release()  # the leader's process ends: its session, and with it the lock, is gone
    assert second.acquire() is True
    assert first.acquire() is False


def test_a_killed_leader_session_is_taken_over(
    postgres_url: str, pair: tuple[Leadership, Leadership]
) -> None:
    first, second = pair
    assert first.acquire() is True
    assert second.acquire() is False
    _terminate(postgres_url, first)
    assert second.acquire() is True
    # The old leader notices its dead connection on its next beat and does not tick.
    assert first.acquire() is False
    assert first.is_leader is False


def test_sqlite_always_leads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert Leadership(f"sqlite:///{tmp_path / 'x.sqlite3'}").acquire() is True


def test_the_production_keys_fit_postgres_and_differ() -> None:
    """pg_try_advisory_lock takes a signed 64-bit key; leadership and migrations must not share one."""
    assert all(-(2**63) <= k < 2**63 for k in (LOCK_KEY, MIGRATION_LOCK_KEY))
    assert LOCK_KEY != MIGRATION_LOCK_KEY


async def test_only_the_leader_sends_and_the_other_takes_over(  # type: ignore[no-untyped-def]
    make_bot, clock, postgres_url: str, key: int
) -> None:
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot_a, bot_b = make_bot(), make_bot()
    console = ConsoleDriver(bot_a)
    await console.start()
    await team(console)
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    console_b = ConsoleDriver(bot_b)  # replica B delivers to the console too, with its own screen
    a = CourseScheduler(bot_a, lock_url=postgres_url, lock_key=key)
    b = CourseScheduler(bot_b, lock_url=postgres_url, lock_key=key)
    try:
        clock.set(oslo(2027, 1, 7, 10).astimezone(UTC))  # the reminder before module 1 is due
        reports = [await a.beat(), await b.beat(), await a.beat(), await b.beat()]
        assert reports[1] is None and reports[3] is None  # B is not the leader: it does not tick
        assert reports[0] is not None and reports[0].sent == ["run:1:prepare:m1"]
        assert a.is_leader and not b.is_leader

        _terminate(postgres_url, a.leadership)  # A's process dies
        clock.set(oslo(2027, 1, 7, 13).astimezone(UTC))  # the check-in invitation is due
        report_b = await b.beat()
        assert report_b is not None and report_b.sent == ["checkin:1:2027-W01"]
        assert await a.beat() is None
        transcript = console.transcript + console_b.transcript
        # Module 1 is for the trio: its reminder reaches each of them once, and nobody else.
        assert transcript.count("[direktemelding til Ola] Partsbot:\n  == Snart: neste modul ==") == 1
        assert transcript.count("== Snart: neste modul ==") == 3
        assert transcript.count("[direktemelding til Per] Partsbot:\n  == En bra dag på jobb ==") == 1
    finally:
        a.shutdown()
        b.shutdown()
