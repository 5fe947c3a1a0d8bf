"""Exactly once across crashes: the ledger row, the messages and the outbox items are one transaction.

* the transaction fails (crash before the commit): nothing is kept, the next tick sends;
* the process dies after the commit but before delivery: the restarted process delivers from the outbox
  and does not send again;
* two ticks at once, or one job sent twice: the unique ledger key lets only one through.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from bot.chat import delivery
from bot.course import scheduler
from bot.course.jobs import Job
from bot.course.models import DueNudge, SendLedger
from bot.storage.models import KeyValue, OutboxItem
from tests.console_driver import ConsoleDriver
from tests.course.course_helpers import oslo, team

PREPARE = "== Snart: neste modul =="
DUE = oslo(2027, 1, 7, 10, 0)  # the reminder before module 1 (Monday 11 January 2027)
# Module 1 is for the trio, so its reminder is one job that sends one direct message to each of them.
TRIO = ("Kari", "Ola", "Siri")


def received(transcript: str) -> dict[str, int]:
    """How often each person got the reminder in a direct message."""
    return {
        name: transcript.count(f"[direktemelding til {name}] Partsbot:\n  {PREPARE}")
        for name in (*TRIO, "Per", "Aisha", "Jonas")
        if PREPARE in transcript
    }


ONCE_TO_THE_TRIO = {"Kari": 1, "Ola": 1, "Siri": 1, "Per": 0, "Aisha": 0, "Jonas": 0}


async def enrolled(make_bot, clock):  # type: ignore[no-untyped-def]
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await team(console)
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    clock.set(DUE.astimezone(UTC))
    return bot, console


def count(database, model, *where) -> int:  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_a_failed_send_transaction_leaves_nothing_and_the_next_tick_sends_once(  # type: ignore[no-untyped-def]
    make_bot, clock, database, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, console = await enrolled(make_bot, clock)
    real_enqueue = delivery.enqueue

    def crash(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("the process died while writing the outbox")

    monkeypatch.setattr(delivery, "enqueue", crash)
    report = await scheduler.tick(bot, clock())
    assert report.failed == ["run:1:prepare:m1"]
    assert count(database, SendLedger) == 0  # the ledger row was rolled back with the rest
    assert count(database, DueNudge, DueNudge.key == "run:1:prepare:m1", DueNudge.status == "pending") == 1
    assert PREPARE not in console.transcript

    monkeypatch.setattr(delivery, "enqueue", real_enqueue)
    report = await scheduler.tick(bot, clock())
    assert report.sent == ["run:1:prepare:m1"]
    for _ in range(3):
        assert (await scheduler.tick(bot, clock())).sent == []
    assert received(console.transcript) == ONCE_TO_THE_TRIO
    assert console.transcript.count(PREPARE) == len(TRIO)


async def test_a_crash_after_the_commit_is_delivered_once_after_the_restart(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    _, first_console = await enrolled(make_bot, clock)
    # The process that ticks has no messenger: it commits ledger and outbox, then "dies" before delivering.
    dying = make_bot()
    report = await scheduler.tick(dying, clock())
    assert report.sent == ["run:1:prepare:m1"]
    assert report.delivered == 0
    assert count(database, OutboxItem) == len(TRIO)
    assert count(database, SendLedger) == 1

    # A new process with the console starts: it delivers from the outbox and sends nothing anew.
    clock.advance(minutes=1)
    restarted = make_bot()
    console = ConsoleDriver(restarted)
    await console.start()
    report = await scheduler.tick(restarted, clock())
    assert report.sent == []
    assert report.delivered == len(TRIO)
    for _ in range(3):
        report = await scheduler.tick(restarted, clock())
        assert (report.sent, report.delivered) == ([], 0)
    assert received(console.transcript) == ONCE_TO_THE_TRIO
    assert PREPARE not in first_console.transcript
    assert count(database, OutboxItem) == 0


async def test_two_ticks_at_once_send_each_nudge_once(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    bot, console = await enrolled(make_bot, clock)
    other = make_bot()  # a second process on the same database, without leadership in between
    reports = await asyncio.gather(scheduler.tick(bot, clock()), scheduler.tick(other, clock()))
    assert sorted(k for r in reports for k in r.sent) == ["run:1:prepare:m1"]
    assert received(console.transcript) == ONCE_TO_THE_TRIO
    assert count(database, SendLedger) == 1


async def test_the_ledger_key_refuses_a_second_send(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    bot, _ = await enrolled(make_bot, clock)
    job = Job("test:once", 1, lambda session, now: [])
    assert scheduler.send_job(bot.db, job, clock(), clock()) == "sent"
    assert scheduler.send_job(bot.db, job, clock(), clock()) == "duplicate"
    assert count(database, SendLedger, SendLedger.key == "test:once") == 1


async def test_a_job_that_breaks_another_constraint_fails_loudly_and_is_not_a_duplicate(  # type: ignore[no-untyped-def]
    make_bot, clock, database, caplog: pytest.LogCaptureFixture
) -> None:
    """Only the ledger's own key means "sent before"; a job that trips any other constraint is a bug."""
    bot, _ = await enrolled(make_bot, clock)

    def make(session, now):  # type: ignore[no-untyped-def]
        session.add(KeyValue(key="test:state", value="a"))
        session.flush()
        session.add(
            KeyValue(key="test:state", value="b")
        )  # the job's own bug: a unique key, not the ledger's
        session.flush()
        return []

    job = Job("test:buggy", 1, make)
    with caplog.at_level("INFO", logger="bot.course.scheduler"):
        assert scheduler.send_job(bot.db, job, clock(), clock()) == "failed"
    assert "course job test:buggy broke a constraint" in caplog.text
    assert count(database, SendLedger, SendLedger.key.startswith("test:")) == 0  # all rolled back
    assert scheduler.send_job(bot.db, Job("test:buggy", 1, lambda s, n: []), clock(), clock()) == "sent"


async def test_what_a_sent_job_leaves_behind(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    """The ledger row says when, the nudge is marked sent at that moment, the outbox items are due at once
    and addressed to the unit's platform and workspace, and the report counts the messages."""
    await enrolled(make_bot, clock)
    dying = make_bot()  # no messenger: what it commits stays in the outbox for inspection
    report = await scheduler.tick(dying, clock())
    assert report.sent == ["run:1:prepare:m1"]
    assert report.messages == {"run:1:prepare:m1": len(TRIO)}
    with database.transaction() as s:
        assert s.scalars(select(SendLedger.sent_at)).all() == [clock()]
        nudge = s.scalar(select(DueNudge).where(DueNudge.key == "run:1:prepare:m1"))
        assert nudge is not None and (nudge.status, nudge.sent_at) == ("sent", clock())
        items = s.scalars(select(OutboxItem)).all()
        assert len(items) == len(TRIO)
        assert {(i.platform, i.next_attempt_at) for i in items} == {("console", clock())}
        assert all(i.lane.startswith("console") for i in items)


async def test_a_nudge_job_made_twice_or_early_sends_nothing(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    """The nudge's own status and due time guard it too (defence in depth beside the ledger key): a job
    for a nudge that is no longer pending, or not yet due, or of a run that is not active, is skipped."""
    from bot.course import nudges
    from bot.course.jobs import Skip
    from bot.course.models import CourseRun

    await enrolled(make_bot, clock)
    with database.transaction() as s:
        (job,) = [j for j in nudges.due_jobs(s, clock()) if j.key == "run:1:prepare:m1"]
        nudge = s.scalar(select(DueNudge).where(DueNudge.key == job.key))
        assert nudge is not None
        with pytest.raises(Skip):
            job.make(s, nudge.due_at - timedelta(seconds=1))  # not due yet
        assert nudge.status == "pending"
        s.get(CourseRun, nudge.run_id).status = "paused"  # type: ignore[union-attr]
        with pytest.raises(Skip):
            job.make(s, clock())
        s.get(CourseRun, nudge.run_id).status = "active"  # type: ignore[union-attr]
        assert job.make(s, clock())  # due, pending, active: it sends
        with pytest.raises(Skip):
            job.make(s, clock())  # the same job again: the nudge is sent already


async def test_expired_and_stale_nudges_are_marked_and_never_sent(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    """A before-module nudge still pending when its module starts expires; any nudge more than
    STALE_AFTER (3 days) overdue is missed – a scheduler back after an outage does not send old news.
    The rest are handed out in due order, for their unit."""
    from bot.course import nudges
    from bot.course.models import CourseRun

    await enrolled(make_bot, clock)

    def statuses(s) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return {n.key: n.status for n in s.scalars(select(DueNudge).where(DueNudge.key.like("run:1:%:m1")))}

    with database.transaction() as s:
        assert nudges.due_jobs(s, oslo(2027, 1, 11, 9, 0).astimezone(UTC)) == []  # module 1 starts now
        assert statuses(s)["run:1:prepare:m1"] == "expired"
        assert statuses(s)["run:1:baseline:m1"] == "expired"
    with database.transaction() as s:
        # Exactly three days after the module evaluation was due, one hour more after the tool's.
        jobs = nudges.due_jobs(s, oslo(2027, 1, 15, 13, 0).astimezone(UTC))
        run = s.scalars(select(CourseRun)).one()
        assert [(j.key, j.unit_id) for j in jobs] == [("run:1:module-evaluation:m1", run.unit_id)]
        assert statuses(s)["run:1:in-brief:m1"] == "missed"
        assert statuses(s)["run:1:tool:m1"] == "missed"
        assert statuses(s)["run:1:module-evaluation:m1"] == "pending"
