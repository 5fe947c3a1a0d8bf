"""Data rights (issue 10): a person sees everything stored about them (`/parts mine data`: a readable message
and a JSON file), erases it (`/parts slett meg`), and operators can do both for a person or a unit
(`partsbot data export|erase`). Every column pointing at a person is declared by its area, so a new table
cannot be forgotten."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import String, Text, select

from bot.schema import metadata
from bot.storage.db import Database
from bot.storage.models import Member
from bot.storage.personal import FORMER_USER_ID, undeclared_member_columns
from bot.toolbox.models import Case, Question
from tests.console_driver import ConsoleDriver, message_number, option_number

PER_CASE = "Garderoben er for trang når alle henter samtidig"
PER_QUESTION = "Hvem bestemmer hentetidene?"


def test_every_column_pointing_at_a_person_is_declared() -> None:
    assert undeclared_member_columns(metadata().sorted_tables) == []


def _traces(db: Database, needles: list[str]) -> list[str]:
    """``table.column`` of every text value in the database that contains one of ``needles``."""
    found = []
    with db.engine.connect() as conn:
        for table in metadata().sorted_tables:
            columns = [
                c for c in table.columns if isinstance(c.type, String | Text) or c.name in ("data", "askers")
            ]
            for row in conn.execute(select(table)).mappings():
                if table.name == "key_value" and str(row["key"]).startswith("console."):
                    continue  # the local console remembers which person you are playing; not the bot's data
                for column in columns:
                    value = json.dumps(row[column.name], ensure_ascii=False, default=str)
                    if any(n in value for n in needles):
                        found.append(f"{table.name}.{column.name}")
    return found


async def _per_takes_part(console: ConsoleDriver) -> None:
    await console.as_("Kari", "/parts rolle leder")
    await console.as_("Per", "/parts rolle ansatt")
    out = await console.as_("Per", f"/parts blindsone {PER_CASE}")
    message_number(out, "== Sak #1")
    await console.as_("Per", f"/parts blindsone spør #1 {PER_QUESTION}")
    await console.as_("Per", "/dm", "/parts blindsone anonym 1 Et anonymt spørsmål fra Per")


async def test_mine_data_gives_a_readable_overview_and_a_file(make_bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await _per_takes_part(console)
    out = await console.as_("Per", "/kanal", "/parts mine data")
    assert "Jeg har sendt deg en oversikt over dataene dine i en direktemelding." in out
    assert "== Dette har jeg lagret om deg ==" in out
    assert "Navn: Per · bruker-id: u-per" in out
    assert "• saker du har startet: 1" in out
    assert "Anonyme svar på sjekk-inn" in out
    [path] = [line.split("→ ", 1)[1].strip() for line in out.splitlines() if "→ " in line]
    exported = json.loads(await asyncio.to_thread(Path(path).read_text, encoding="utf-8"))
    assert exported["person"]["user_id"] == "u-per"
    started = exported["data"]["cases_started"]["toolbox_case"]
    assert [c["statement"] for c in started] == [PER_CASE]
    texts = json.dumps(exported["data"]["texts"], ensure_ascii=False)
    assert PER_QUESTION in texts
    # The anonymous question is not linked to Per, so it cannot be in his export.
    assert "Et anonymt spørsmål fra Per" not in json.dumps(exported, ensure_ascii=False)


async def test_slett_meg_leaves_no_trace_of_the_name_or_user_id(make_bot, database: Database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await _per_takes_part(console)
    assert _traces(database, ["u-per", "Per"])  # there is something to erase
    out = await console.as_("Per", "/kanal", "/parts slett meg")
    assert "Vil du at jeg sletter det jeg har lagret om deg?" in out
    out = await console.type(option_number(out, "Ja, slett meg"))
    assert "Ferdig. Jeg har slettet navnet ditt" in out
    await console.bot.delivery.flush()
    assert _traces(database, ["u-per", '"Per"', "Per "]) == []
    with database.transaction() as s:
        case = s.scalars(select(Case)).one()
        starter = s.get_one(Member, case.started_by_id)
        assert (starter.user_id, starter.display_name) == (FORMER_USER_ID, "en tidligere kollega")
        question = s.scalars(select(Question).where(Question.anonymous.is_(False))).one()
        assert question.text == PER_QUESTION and question.author_id == starter.id


async def test_operators_export_and_erase_a_person_and_a_unit(  # type: ignore[no-untyped-def]
    make_bot, database: Database, tmp_path: Path, monkeypatch, capsys
) -> None:
    from bot.cli import main

    console = ConsoleDriver(make_bot())
    await console.start()
    await _per_takes_part(console)
    from alembic import command

    from bot.storage.migrate import alembic_config

    command.stamp(alembic_config(database.url), "head")  # built by create_all: mark it migrated
    monkeypatch.setenv("DATABASE_URL", database.url)
    out = tmp_path / "per.json"
    assert main(["data", "export", "--person", "console", "console", "u-per", "--out", str(out)]) == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["person"]["display_name"] == "Per"
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    assert main(["data", "export", "--unit", "console", "console", "personalet"]) == 0
    unit_dump = capsys.readouterr().out
    assert PER_CASE in unit_dump and "toolbox_case" in unit_dump

    assert main(["data", "erase", "--person", "console", "console", "u-per"]) == 0
    assert _traces(database, ["u-per", '"Per"', "Per "]) == []
    assert main(["data", "erase", "--unit", "console", "console", "personalet"]) == 0
    assert _traces(database, [PER_CASE, PER_QUESTION, "u-kari"]) == []
    assert main(["data", "erase", "--person", "console", "console", "u-nobody"]) == 2


async def test_closed_cases_are_anonymised_after_the_retention_time(
    make_bot, database: Database, clock
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from bot.course.retention import anonymise_closed_cases
    from bot.settings import Settings

    console = ConsoleDriver(make_bot())
    await console.start()
    await _per_takes_part(console)
    with database.transaction() as s:
        s.scalars(select(Case)).one().closed_at = clock() - timedelta(days=700)
    with database.transaction() as s:
        assert anonymise_closed_cases(s, clock(), Settings(env="test")) == 0  # 23 months: kept as is
    with database.transaction() as s:
        assert anonymise_closed_cases(s, clock() + timedelta(days=60), Settings(env="test")) > 0
    with database.transaction() as s:
        case = s.scalars(select(Case)).one()
        assert s.get_one(Member, case.started_by_id).user_id == FORMER_USER_ID
        question = s.scalars(select(Question).where(Question.anonymous.is_(False))).one()
        assert question.author_id == case.started_by_id
        # Per himself is still there: only the old case forgot him.
        assert s.scalars(select(Member.display_name).where(Member.user_id == "u-per")).one() == "Per"
