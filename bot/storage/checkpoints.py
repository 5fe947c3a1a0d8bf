"""SQLite's WAL checkpoints in a thread of their own, not in whichever commit happens to cross the limit.

In WAL mode SQLite copies the log back into the database file (a *checkpoint*, with an fsync of the
database file) inside the commit that makes the log pass ``wal_autocheckpoint`` pages (1000 by default).
Under load that was every few hundred commands, and each time the command whose commit did it, and every
command queued behind SQLite's one writer, waited: ``bench/bench_serve.py``'s slowest answers came in a
regular beat, every 0.55 s at 470 commands a second, 5–10 ms each, and set the p99 (6.5 ms; 3.3 ms with
checkpoints off the commit path).

While the server runs, this service checkpoints every half second with ``PRAGMA wal_checkpoint(PASSIVE)``
on a connection of its own: a passive checkpoint takes no write lock, so commits go on while it copies,
and SQLite releases the GIL while it works. The connections that handle events keep a ten times higher
``wal_autocheckpoint`` only as a safety net (the log cannot grow without bound if this thread stalls).
Durability does not change: a commit is in the log either way, and the checkpoint only moves it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from sqlalchemy import event

from bot.storage.db import Database

log = logging.getLogger(__name__)

EVERY_SECONDS = 0.5
SAFETY_NET_PAGES = 10_000  # about 40 MB of log before a commit checkpoints after all


class WalCheckpoints:
    """A :class:`bot.web.Service` for a SQLite database in a file (does nothing for others)."""

    def __init__(self, db: Database, every: float = EVERY_SECONDS) -> None:
        self.db = db
        self.every = every
        self.path = db.engine.url.database or ""
        self.enabled = db.engine.dialect.name == "sqlite" and self.path not in ("", ":memory:")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: sqlite3.Connection | None = None

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        event.listen(self.db.engine, "connect", _raise_autocheckpoint)
        # Connections opened before (start-up's checks) are closed, so every one that handles events has
        # the raised limit.
        self.db.engine.dispose()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=10)
        self._thread = None
        event.remove(self.db.engine, "connect", _raise_autocheckpoint)

    def checkpoint(self) -> bool:
        """One passive checkpoint: copy what the log holds into the database file, as far as no reader
        still needs the older pages. ``False`` when it could not run now."""
        if self._connection is None:
            self._connection = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
        try:
            busy, frames, _copied = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            log.warning(
                "SQLite checkpoint failed; the next commit past the safety net does it", exc_info=True
            )
            return False
        return not busy and frames >= 0

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                self.checkpoint()
            self.checkpoint()  # what the last half second committed, before the process ends
        finally:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def _raise_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
    cursor.close()
