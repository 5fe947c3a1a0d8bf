"""Input made safe at the boundary, and database errors that never quote what people wrote (SEC-08, B5)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from bot.chat.model import Actor, Command, Place
from bot.chat.sanitize import MAX_DISPLAY_NAME, clean_text
from bot.storage.db import Database
from bot.storage.models import Member, Organisation
from bot.toolbox.models import Case

PLACE = Place("console", "console", "personalet")


def test_control_characters_go_and_line_breaks_stay() -> None:
    assert clean_text("a\x00b\r\nc\td\u202ee\x1b[31m") == "ab\nc\tde[31m"


async def test_nul_and_an_overlong_name_are_stored_cleanly(make_bot, database, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    bot = make_bot()
    long_name = "Kari " + "N" * 300
    await bot.handle(Command(Actor("u-kari", long_name), PLACE, "problem", "Lederen\x00 HEMMELIG drikker"))
    with database.transaction() as s:
        member = s.scalars(select(Member)).one()
        assert len(member.display_name) == MAX_DISPLAY_NAME
        statements = list(s.scalars(select(Case.statement)))
    assert statements == ["Lederen HEMMELIG drikker"]
    assert "HEMMELIG" not in caplog.text
    assert "failed" not in caplog.text


def test_database_errors_do_not_quote_parameters(database: Database) -> None:
    with database.transaction() as s:
        s.add(Organisation(platform="console", external_id="x"))
    with pytest.raises(IntegrityError) as caught, database.transaction() as s:
        s.execute(insert(Organisation).values(platform="console", external_id="x", name="HEMMELIG TEKST"))
    assert "HEMMELIG" not in str(caught.value)
    assert "hidden due to hide_parameters" in str(caught.value)
