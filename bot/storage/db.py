"""Engine and sessions: SQLite (WAL, one writer at a time) or PostgreSQL (psycopg 3).

Handlers run in worker threads with a synchronous :class:`~sqlalchemy.orm.Session`; each event is one
transaction, so a crash never leaves half a vote or half a case behind.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, PrimaryKeyConstraint, Table, UniqueConstraint, create_engine, event, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.schema import ColumnCollectionConstraint

from bot.settings import SettingsError
from bot.storage.models import Base

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front. With pysqlite's deferred BEGIN two threads that both
    # read and then write fail with "database is locked" without waiting: concurrent votes would be lost.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """``hide_parameters``: an error's message and traceback never quote the values of a statement, which
    are people's free text (security review SEC-08, code review B5)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No ping before every checkout: it was a round trip per transaction (per command) and showed in the
    # slowest answers under load. A connection the server dropped (a restart) fails its statement, which
    # makes SQLAlchemy discard the whole pool; the event is then tried again once on a fresh connection
    # (Partsbot.handle), a request that could not be stored is not acknowledged (or told so), delivery
    # and the scheduler retry. Connections are renewed after half an hour, before idle timeouts of
    # firewalls and poolers cut them.
    return create_engine(
        url, echo=echo, hide_parameters=True, pool_recycle=1800, pool_size=10, max_overflow=10
    )


_SQLITE_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def duplicate_key(exc: IntegrityError) -> str | None:
    """The declared unique key that ``exc`` collided with, by name, or ``None``.

    A collision on a declared unique key (a unique constraint or index, or a natural primary key) is a
    double click or two replicas racing: the first one won. Any other integrity error – NOT NULL, a
    foreign key, a CHECK, a surrogate id – is a bug. Works on PostgreSQL (SQLSTATE 23505 and the
    constraint's name) and on SQLite (its extended error code and the columns it names).
    """
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        diag = getattr(orig, "diag", None)
        table = Base.metadata.tables.get(getattr(diag, "table_name", None) or "")
        name = getattr(diag, "constraint_name", None)
        if sqlstate != "23505" or table is None or name not in _unique_keys(table):
            return None
        return str(name)
    if getattr(orig, "sqlite_errorname", "") not in _SQLITE_UNIQUE:
        return None
    # "UNIQUE constraint failed: vote_dot.vote_id, vote_dot.member_id, vote_dot.slot"
    named = [part.strip().split(".", 1) for part in str(orig).split(":", 1)[-1].split(",")]
    tables = {pair[0] for pair in named if len(pair) == 2}
    if len(tables) != 1 or any(len(pair) != 2 for pair in named):
        return None
    table = Base.metadata.tables.get(tables.pop())
    columns = frozenset(pair[1] for pair in named)
    found = [name for name, key in _unique_keys(table).items() if key == columns] if table is not None else []
    return found[0] if found else None


def _unique_keys(table: Table) -> dict[str, frozenset[str]]:
    keys: dict[str, frozenset[str]] = {}
    for constraint in table.constraints:
        if not isinstance(constraint, ColumnCollectionConstraint):
            continue
        # A primary key is a declared key unless it is a generated id (then a collision is a bug).
        natural_key = isinstance(constraint, PrimaryKeyConstraint) and (
            table.autoincrement_column is None or table.autoincrement_column.name not in constraint.columns
        )
        if isinstance(constraint, UniqueConstraint) or natural_key:
            keys[str(constraint.name)] = frozenset(column.name for column in constraint.columns)
    for index in table.indexes:
        if index.unique:
            keys[str(index.name)] = frozenset(column.name for column in index.columns)
    return keys


class _Writer:
    """SQLite's one writer, handed to this process's threads by urgency, then in turn.

    Urgent holders are requests waiting for their acknowledgement (the inbox insert): they go before work
    that is already safe in the database (handling a batch of events, removing delivered items), so under
    load the acknowledgement never queues behind the processing. Re-entrant for the holding thread."""

    def __init__(self) -> None:
        self._state = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._urgent_waiting = 0

    def waiting(self) -> int:
        """How many threads wait for the writer (for diagnostics and tests)."""
        with self._state:
            return len(getattr(self._state, "_waiters", ()))

    @contextmanager
    def hold(self, urgent: bool) -> Iterator[None]:
        me = threading.get_ident()
        with self._state:
            if self._owner == me:
                self._depth += 1
            else:
                if urgent:
                    self._urgent_waiting += 1
                try:
                    while self._owner is not None or (not urgent and self._urgent_waiting):
                        self._state.wait()
                finally:
                    if urgent:
                        self._urgent_waiting -= 1
                self._owner = me
                self._depth = 1
        try:
            yield
        finally:
            with self._state:
                self._depth -= 1
                if self._depth == 0:
                    self._owner = None
                    self._state.notify_all()


class Database:
    """An engine plus a session factory; one per process."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time (every transaction here begins IMMEDIATE). Threads of this process
        # queue for it here, in order of urgency, instead of in SQLite's busy handler, which sleeps up to
        # 100 ms at a time: under load that sleeping, not the work, set the pace.
        self._writer: _Writer | None = _Writer() if url.startswith("sqlite") else None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self, *, urgent: bool = False) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any exception. ``urgent``: someone waits
        for it to be acknowledged (on SQLite it goes before other waiting writers)."""
        if self._writer is None:
            with self.sessions() as session, session.begin():
                yield session
            return
        with self._writer.hold(urgent), self.sessions() as session, session.begin():
            yield session

    def check(self) -> None:
        """Fail with one clear line when the database cannot be used."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            reason = (str(getattr(exc, "orig", None) or exc).splitlines() or ["unknown error"])[0]
            raise SettingsError(f"DATABASE_URL cannot be used: {reason}") from None

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            log.warning("database ping failed", exc_info=True)
            return False

    def dispose(self) -> None:
        self.engine.dispose()
