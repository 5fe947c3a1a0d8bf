"""Shared fixtures: an isolated environment, a real database per test, an injected clock, a bot.

The database is SQLite in a temporary folder by default. With ``PARTSBOT_TEST_DATABASE_URL`` pointing at
PostgreSQL (``.ci/run`` does this) every test runs on PostgreSQL instead: the schema is created once per
run and all tables are emptied before each test. Tests that need PostgreSQL whatever the default use the
``postgres_url`` fixture, which skips with a reason when no server answers.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.core import Partsbot
from bot.schema import metadata
from bot.settings import Settings, normalise_database_url
from bot.storage.db import Database
from handlers import build_router

TEST_DATABASE_URL = os.environ.get("PARTSBOT_TEST_DATABASE_URL", "")
# PARTSBOT_TEST_POSTGRES_URL lets parallel runs on one machine use separate databases for the
# PostgreSQL-only tests (advisory locks and tables are per database).
DEFAULT_POSTGRES_URL = os.environ.get(
    "PARTSBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _only_loopback(event: str, args: tuple[object, ...]) -> None:
    """Tests may talk to fake platforms on this machine only: any other address is a bug in a test."""
    if event != "socket.connect":
        return
    sock, address = args[0], args[1]
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0] if isinstance(address, tuple) else address
        if host not in _LOOPBACK:
            raise ConnectionRefusedError(f"test tried to reach {host!r}; only loopback is allowed")


sys.addaudithook(_only_loopback)

_PLATFORM_VARS = ("SLACK_", "MICROSOFT_", "DATABASE_URL", "PARTSBOT_ENV", "PARTSBOT_LANGUAGE", "PORT")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's Slack/Teams credentials or ``.env``."""
    for name in list(os.environ):
        if name.startswith(_PLATFORM_VARS):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


class FakeClock:
    """``now`` as a parameter: tests move time instead of sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now


@pytest.fixture
def clock() -> FakeClock:
    # A Tuesday morning in Oslo, inside the default delivery window.
    return FakeClock(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))


def _reachable(url: str) -> str | None:
    try:
        engine = create_engine(normalise_database_url(url))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except OperationalError as exc:
        return str(exc.orig).splitlines()[0] if exc.orig else str(exc)


@pytest.fixture(scope="session")
def _shared_postgres() -> Iterator[Database | None]:
    if not TEST_DATABASE_URL.startswith(("postgresql", "postgres:")):
        yield None
        return
    problem = _reachable(TEST_DATABASE_URL)
    if problem:
        pytest.exit(f"PARTSBOT_TEST_DATABASE_URL is set but PostgreSQL does not answer: {problem}", 2)
    db = Database(normalise_database_url(TEST_DATABASE_URL))
    meta = metadata()
    meta.drop_all(db.engine)
    meta.create_all(db.engine)
    yield db
    db.dispose()


def _empty_all_tables(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata().sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def database(tmp_path: Path, _shared_postgres: Database | None) -> Iterator[Database]:
    """A real, empty database with the full schema."""
    if _shared_postgres is not None:
        _empty_all_tables(_shared_postgres)
        yield _shared_postgres
        return
    db = Database(f"sqlite:///{tmp_path / 'partsbot-test.sqlite3'}")
    metadata().create_all(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database_url=database.url, env="test")


@pytest.fixture
def make_bot(settings: Settings, database: Database, clock: FakeClock) -> Callable[..., Partsbot]:
    def make(**overrides: object) -> Partsbot:
        used = Settings(**{**settings.__dict__, **overrides}) if overrides else settings
        return Partsbot(used, database, build_router(), clock)

    return make


@pytest.fixture
def postgres_url() -> str:
    """A PostgreSQL server to test what only PostgreSQL does (advisory locks, real concurrency)."""
    url = TEST_DATABASE_URL if TEST_DATABASE_URL.startswith("postgres") else DEFAULT_POSTGRES_URL
    problem = _reachable(url)
    if problem:
        pytest.skip(f"needs PostgreSQL (tried {url}): {problem}")
    return normalise_database_url(url)


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database of this test's own, dropped afterwards: for what needs a
    database nobody else touches (migrations, concurrency, crashes). Skipped without a server."""
    name = f"partsbot_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_postgres_database(fresh_postgres: str) -> Iterator[Database]:
    """A :class:`Database` on :func:`fresh_postgres` with the full schema."""
    db = Database(fresh_postgres)
    metadata().create_all(db.engine)
    yield db
    db.dispose()


@pytest.fixture(params=["default", "postgresql"])
def default_and_postgres(request: pytest.FixtureRequest) -> Iterator[Database]:
    """The default test database, then a fresh PostgreSQL one (skipped without a server): for behaviour
    that only PostgreSQL's real concurrency and row versions prove."""
    if request.param == "default":
        yield request.getfixturevalue("database")
    else:
        yield request.getfixturevalue("fresh_postgres_database")
