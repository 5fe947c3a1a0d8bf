"""Existing units migrate safely to granted roles (migration 0006), on SQLite and on PostgreSQL.

Roles already held stay and are written to the audit trail; representatives' approvals of a draft plan
become stances; and the leder is asked once – on her next command – to confirm the representatives.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.core import Partsbot
from bot.settings import Settings
from bot.storage import migrate
from bot.storage.db import Database
from handlers import build_router
from tests.console_driver import ConsoleDriver

BEFORE = "0007"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    name = f"partsbot_roles_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed_before_grants(url: str) -> None:
    """A console kindergarten as it looked with self-chosen roles: Kari leder, Ola verneombud, Siri
    tillitsvalgt, a draft plan approved by Kari and Ola, and an agreed plan approved by all three."""
    engine = create_engine(url)
    with engine.begin() as conn:

        def insert(table: str, **values: object) -> None:
            # Plain SQL on purpose: the models describe the schema after the migration, not before it.
            names = ", ".join(values)
            marks = ", ".join(f":{name}" for name in values)
            conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)

        insert("organisation", id=1, platform="console", external_id="console", name="", created_at=NOW)
        insert(
            "unit",
            id=1,
            organisation_id=1,
            channel_id="personalet",
            name="Solsikken barnehage",
            language="nb",
            timezone="Europe/Oslo",
            created_at=NOW,
        )
        people = (
            (1, "u-kari", "Kari", "leder"),
            (2, "u-ola", "Ola", "verneombud"),
            (3, "u-siri", "Siri", "tillitsvalgt"),
        )
        for member_id, user, name, role in people:
            insert("member", id=member_id, organisation_id=1, user_id=user, display_name=name, created_at=NOW)
            insert("membership", unit_id=1, member_id=member_id, joined_at=NOW)
            insert(
                "role_assignment", id=member_id, unit_id=1, member_id=member_id, role=role, assigned_at=NOW
            )
        for case_id, step, status in ((1, "plan", "draft"), (2, "agreed", "agreed")):
            insert(
                "toolbox_case",
                id=case_id,
                unit_id=1,
                title="Sak",
                statement="Sak",
                started_by_id=2,
                starter_roles="verneombud",
                step=step,
                parties_only=False,
                created_at=NOW,
                updated_at=NOW,
            )
            insert(
                "plan",
                id=case_id,
                unit_id=1,
                case_id=case_id,
                goal="Mål",
                outcome="",
                revision=1,
                status=status,
                created_at=NOW,
                updated_at=NOW,
            )
        approvals = (
            (1, "leder", 1),
            (1, "verneombud", 2),
            (2, "leder", 1),
            (2, "verneombud", 2),
            (2, "tillitsvalgt", 3),
        )
        for number, (plan_id, role, member_id) in enumerate(approvals, start=1):
            insert(
                "plan_approval",
                id=number,
                plan_id=plan_id,
                revision=1,
                role=role,
                member_id=member_id,
                approved_at=NOW,
            )
    engine.dispose()


async def test_roles_held_before_grants_stay_and_the_leader_is_asked_once(fresh_url: str) -> None:
    migrate.upgrade(fresh_url, BEFORE)
    _seed_before_grants(fresh_url)
    migrate.upgrade(fresh_url)
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        held = conn.execute(text("SELECT member_id, role FROM role_assignment ORDER BY member_id")).all()
        assert [tuple(r) for r in held] == [(1, "leder"), (2, "verneombud"), (3, "tillitsvalgt")]
        kept = conn.execute(text("SELECT member_id, kind, via FROM role_event ORDER BY member_id")).all()
        assert [tuple(r) for r in kept] == [
            (1, "kept", "migration"),
            (2, "kept", "migration"),
            (3, "kept", "migration"),
        ]
        assert conn.execute(text("SELECT unit_id, asked_at FROM role_review")).all() == [(1, None)]
        # The draft plan's approvals: Ola's is now a stance; Kari's is no decision under the new rules.
        stances = conn.execute(text("SELECT plan_id, member_id, role, stance FROM plan_stance")).all()
        assert [tuple(r) for r in stances] == [(1, 2, "verneombud", "enig")]
        left = conn.execute(text("SELECT plan_id, role FROM plan_approval ORDER BY id")).all()
        assert [tuple(r) for r in left] == [(2, "leder"), (2, "verneombud"), (2, "tillitsvalgt")]
    engine.dispose()

    database = Database(fresh_url)
    bot = Partsbot(Settings(database_url=fresh_url, env="test"), database, build_router(), lambda: NOW)
    console = ConsoleDriver(bot)
    await console.start()
    # Ola's next command changes nothing; Kari's first command brings the question, once.
    assert "Rollene i Solsikken barnehage ble satt før" not in await console.as_("Ola", "/parts rolle")
    out = await console.as_("Kari", "/parts rolle")
    assert "[direktemelding til Kari]" in out
    assert "Rollene i Solsikken barnehage ble satt før Partsbot krevde at leder bekrefter dem." in out
    assert "• Ola – verneombud" in out and "• Siri – tillitsvalgt" in out
    assert "Rollene i Solsikken barnehage ble satt før" not in await console.type("/parts rolle")
    out = await console.type("/velg " + out.rsplit("[", 1)[1].split("]", 1)[0])  # the "Bekreft" button
    assert "Takk – rollene i Solsikken barnehage er bekreftet." in out
    assert "Kari bekreftet Ola som verneombud" in await console.type("/parts rolle historikk")
    database.dispose()
