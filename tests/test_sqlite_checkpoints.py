"""SQLite's WAL checkpoints run beside the server (bot/storage/checkpoints.py), not inside a commit."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bot.storage.checkpoints import SAFETY_NET_PAGES, WalCheckpoints
from bot.storage.db import Database

PAGES = 1200  # more than SQLite's default wal_autocheckpoint (1000)


def _write_pages(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (x BLOB)"))
        conn.execute(text("INSERT INTO filler VALUES (randomblob(4000))"))
        for _ in range(PAGES // 8):
            conn.execute(text("INSERT INTO filler SELECT randomblob(4000) FROM filler LIMIT 8"))


def _size(path: Path) -> int:
    return path.stat().st_size


def _autocheckpoint(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


def test_a_commit_leaves_the_checkpoint_to_the_service(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'checkpoints.sqlite3'}")
    service = WalCheckpoints(db, every=3600)  # the test runs the checkpoints itself
    try:
        assert service.enabled
        service.start()
        assert _autocheckpoint(db) == SAFETY_NET_PAGES
        _write_pages(db)
        # The commit passed 1000 pages of log and did not checkpoint: the pages are only in the log, the
        # database file has not grown. The service's checkpoint copies them.
        assert _size(tmp_path / "checkpoints.sqlite3") < 1_000_000
        assert service.checkpoint()
        assert _size(tmp_path / "checkpoints.sqlite3") > 4_000_000
    finally:
        service.shutdown()
    assert _autocheckpoint(db) == SAFETY_NET_PAGES  # connections already open keep theirs
    db.engine.dispose()
    assert _autocheckpoint(db) == 1000  # SQLite's own default again without the service
    db.dispose()


def test_without_the_service_the_commit_checkpoints(tmp_path: Path) -> None:
    """The contrast that makes the first test mean something: SQLite's default checkpoints in the commit."""
    db = Database(f"sqlite:///{tmp_path / 'plain.sqlite3'}")
    _write_pages(db)
    assert _size(tmp_path / "plain.sqlite3") > 4_000_000
    db.dispose()


def test_the_service_stops_and_leaves_other_databases_alone(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'stops.sqlite3'}")
    service = WalCheckpoints(db, every=0.01)
    service.start()
    thread = service._thread
    assert thread is not None and thread.is_alive()
    service.shutdown()
    assert not thread.is_alive()
    db.dispose()
    memory = Database("sqlite://")
    idle = WalCheckpoints(memory)
    idle.start()
    assert not idle.enabled and idle._thread is None
    idle.shutdown()
    memory.dispose()
