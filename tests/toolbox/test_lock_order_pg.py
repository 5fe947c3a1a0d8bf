"""The lock order (bot/toolbox/access.py, code.md B11) on PostgreSQL: the scheduler closing a vote at its
deadline takes the case's lock before the vote's, like a person closing it by hand, so the two wait for
each other instead of deadlocking."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select, text

from bot.core import Partsbot
from bot.settings import Settings
from bot.storage.db import Database
from bot.toolbox import access
from bot.toolbox.followup import close_due_votes
from bot.toolbox.models_plan import Vote
from handlers import build_router
from tests.console_driver import ConsoleDriver
from tests.toolbox.test_vote import _case_with_ideas

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
AFTER_DEADLINE = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def _someone_waits_for_a_lock(db: Database) -> bool:
    with db.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar()
    return bool(waiting)


async def test_a_person_and_the_scheduler_closing_one_vote_do_not_deadlock(
    fresh_postgres_database: Database,
) -> None:
    clock = {"now": NOW}
    bot = Partsbot(
        Settings(database_url=fresh_postgres_database.url, env="test"),
        fresh_postgres_database,
        build_router(),
        lambda: clock["now"],
    )
    console = ConsoleDriver(bot)
    await _case_with_ideas(console)
    await console.as_("Ola", "/parts stemme 3 2 i morgen 12:00", "#2 #3")
    with fresh_postgres_database.transaction() as s:
        vote_id, case_id = s.execute(select(Vote.id, Vote.case_id)).one()
    clock["now"] = AFTER_DEADLINE

    case_locked = threading.Event()
    errors: list[BaseException] = []
    closed: list[list[int]] = []

    def person() -> None:
        """Like /parts stemme lukk: the case first (load_case), then the vote (voting.lock)."""
        try:
            with fresh_postgres_database.transaction() as s:
                assert access.lock_case(s, case_id) is not None
                case_locked.set()
                # Wait until the scheduler is queued behind us (polling PostgreSQL, not the clock).
                for _ in range(2000):
                    if _someone_waits_for_a_lock(fresh_postgres_database):
                        break
                    threading.Event().wait(0.005)
                s.scalar(select(Vote).where(Vote.id == vote_id).with_for_update())
        except BaseException as exc:
            errors.append(exc)

    def scheduler() -> None:
        try:
            case_locked.wait(30)
            with fresh_postgres_database.transaction() as s:
                closed.append(close_due_votes(s, AFTER_DEADLINE, bot.router.steps, bot.settings))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=person), threading.Thread(target=scheduler)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []  # a deadlock would be an OperationalError in one of the two
    assert closed == [[vote_id]]
    with fresh_postgres_database.transaction() as s:
        assert s.scalar(select(Vote.status).where(Vote.id == vote_id)) == "closed"
