"""Alembic migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from bot.schema import metadata
from bot.storage import migrate
from bot.storage.db import make_engine


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata())
    engine.dispose()
    return list(diff)


def test_sqlite_upgrade_matches_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    migrate.upgrade(url)
    assert _differences(url) == []
    migrate.upgrade(url)  # a second start changes nothing
    engine = make_engine(url)
    assert "alembic_version" in inspect(engine).get_table_names()
    engine.dispose()


def test_postgres_upgrade_matches_models(fresh_postgres: str) -> None:
    migrate.upgrade(fresh_postgres)
    assert _differences(fresh_postgres) == []


def _waiting_for_the_migration_lock(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND ((classid::bigint << 32) | objid::bigint) = :key"
            ),
            {"key": migrate.MIGRATION_LOCK_KEY},
        ).scalar()
    engine.dispose()
    return int(waiting or 0)


def test_replicas_starting_together_take_turns_to_migrate(fresh_postgres: str) -> None:
    """Two replicas upgrading a new database at once: one migrates, the other waits for the advisory lock
    and then finds nothing to do (without the lock they race on CREATE TABLE)."""
    results: list[str] = []

    def replica() -> None:
        try:
            migrate.upgrade(fresh_postgres)
            results.append("ok")
        except Exception as exc:  # the assertion below shows it
            results.append(repr(exc))

    with migrate.migration_lock(fresh_postgres):  # a third replica is migrating right now
        threads = [threading.Thread(target=replica) for _ in range(2)]
        for thread in threads:
            thread.start()
        # Both replicas must be queued on the lock before it is released: wait for that condition.
        for _ in range(500):
            if _waiting_for_the_migration_lock(fresh_postgres) == 2:
                break
            time.sleep(0.01)
        assert _waiting_for_the_migration_lock(fresh_postgres) == 2
        assert results == []
    for thread in threads:
        thread.join(timeout=120)
    assert results == ["ok", "ok"]
    assert _differences(fresh_postgres) == []
