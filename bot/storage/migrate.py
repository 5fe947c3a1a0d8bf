"""Alembic, driven from code: ``partsbot db upgrade`` and the upgrade applied at every start.

Every replica upgrades at start. On PostgreSQL the upgrade runs under a session advisory lock, so replicas
that start together against a new database take turns: the first creates the tables, the others wait and
then find nothing to do, instead of racing on CREATE TABLE.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.settings import normalise_database_url

MIGRATIONS = Path(__file__).with_name("migrations")
# "PbSchema" in ASCII as one signed 64-bit number; advisory locks are per database, and this key differs
# from the scheduler's leadership lock.
MIGRATION_LOCK_KEY = int.from_bytes(b"PbSchema", "big")


if TYPE_CHECKING:
    from alembic.config import Config

_REVISION = re.compile(r'^revision: str = "(\w+)"', re.MULTILINE)
_DOWN = re.compile(r'^down_revision: [^=]+= "(\w+)"', re.MULTILINE)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on a "%" in a password.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    """The newest migration, read from the files (no Alembic import): the one no other revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(_REVISION.findall(source))
        revised.update(_DOWN.findall(source))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def is_current(url: str) -> bool:
    """Whether the database is at the newest migration already (then Alembic is not even imported: it
    costs start-up time and memory in every replica for nothing)."""
    head = head_revision()
    if head is None:
        return False
    engine = create_engine(normalise_database_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
            )
    except SQLAlchemyError:
        return False  # no version table yet: a new database
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    if revision == "head" and is_current(url):
        return
    from alembic import command

    with migration_lock(url):
        command.upgrade(alembic_config(url), revision)


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Hold the migration lock (PostgreSQL; SQLite has one process) on a connection of its own.

    The connection runs in autocommit, so waiting for the lock holds no transaction open; the lock goes
    with the connection if the process dies.
    """
    url = normalise_database_url(url)
    if not url.startswith("postgresql"):
        yield
        return
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
    finally:
        engine.dispose()


def revision(url: str, message: str, target: MetaData) -> None:
    """Autogenerate a migration from the models (developers only), given the whole schema:
    ``revision(url, "add x", bot.schema.metadata())``."""
    from alembic import command

    cfg = alembic_config(url)
    cfg.attributes["target_metadata"] = target
    command.revision(cfg, message=message, autogenerate=True)
