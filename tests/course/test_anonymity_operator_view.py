"""Anonymous means unlinkable for the operator too (issue 10): what someone with read access to the whole
database sees after five people answer a check-in and two ask anonymously – every table, every row, and on
PostgreSQL every row's transaction id (``xmin``) – must not tie any of them to what they answered or asked.
Also: 30 concurrent check-in answers on PostgreSQL are all counted (code review B1).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC
from typing import Any

from sqlalchemy import inspect, select, text

from bot.chat.model import Actor, Place, Submission
from bot.core import Partsbot
from bot.course import evaluation
from bot.course.checkin import INDICATORS
from bot.course.models import CheckinRespondent, CheckinRound, CheckinTally, CourseRun, EvaluationRound
from bot.settings import Settings
from bot.storage.db import Database
from handlers import build_router
from tests.console_driver import ConsoleDriver, message_number
from tests.course.course_helpers import oslo, team

ANSWERS = {
    "Per": ((3, 4, 4, 2, 5, 5), "Per skrev denne kommentaren"),
    "Aisha": ((2, 4, 3, 3, 4, 5), ""),
    "Jonas": ((4, 5, 4, 2, 4, 4), ""),
    "Mari": ((3, 3, 3, 3, 5, 4), ""),
    "Lena": ((5, 4, 2, 1, 4, 5), ""),
}
QUESTIONS = {"Siri": "Hvorfor får noen alltid fri på fredager?", "Per": "Hvem bestemmer turnusen egentlig?"}
PEOPLE = (
    ("Kari", "leder"),
    ("Ola", "verneombud"),
    ("Siri", "tillitsvalgt"),
    *((name, "ansatt") for name in ("Per", "Aisha", "Jonas", "Mari", "Lena")),
)
# Tables whose rows hold what was answered or asked anonymously.
CONTENT_TABLES = (
    "checkin_tally",
    "checkin_round",
    "evaluation_tally",
    "evaluation_round",
    "toolbox_pending_question",
    "toolbox_anonymous_pool",
)


async def enrolled(db: Database, clock, people) -> tuple[Partsbot, ConsoleDriver]:  # type: ignore[no-untyped-def]
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot = Partsbot(Settings(database_url=db.url, env="test"), db, build_router(), clock)
    console = ConsoleDriver(bot)
    await console.start()
    await team(console, people)
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    return bot, console


def read_everything(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as an operator with SELECT sees it; on PostgreSQL with xmin and ctid."""
    rows: dict[str, list[dict[str, Any]]] = {}
    extra = ", xmin::text::bigint AS _xmin, ctid::text AS _ctid" if db.is_postgres else ", rowid AS _rowid"
    with db.engine.connect() as conn:
        for table in inspect(db.engine).get_table_names():
            found = conn.execute(text(f'SELECT *{extra} FROM "{table}"')).mappings().all()
            rows[table] = [dict(r) for r in found]
    return rows


def _names_a_person(table: str, row: dict[str, Any]) -> bool:
    if table == "outbox_item":
        return True  # effects carry user ids
    return any(
        k in row and row[k] is not None for k in ("member_id", "user_id", "author_id", "started_by_id")
    )


async def test_an_operator_reading_every_table_cannot_link_anyone(
    default_and_postgres: Database, clock
) -> None:  # type: ignore[no-untyped-def]
    bot, console = await enrolled(default_and_postgres, clock, PEOPLE)
    # A case at the blind-spot step, where Siri and Per ask anonymously (two people: not yet a batch).
    out = await console.as_("Ola", "/parts blindsone Beskjeder om morgenen")
    message_number(out, "== Sak #1")

    # Outbox delivery held back, as during a platform outage: receipts stay in the table with user ids.
    async def hold(*_lanes: object) -> int:
        return 0

    bot.delivery.flush = hold  # type: ignore[method-assign]
    for name, question in QUESTIONS.items():
        await console.as_(name, "/dm", f"/parts blindsone anonym 1 {question}")
    clock.set(oslo(2027, 1, 7, 14).astimezone(UTC))
    for name, (scores, comment) in ANSWERS.items():
        opened = await console.as_(name, "/kanal", "/parts sjekkinn")
        assert "== En bra dag på jobb ==" in opened, opened
        await console.type(*(str(s) for s in scores), comment)

    # The same five answer the course's baseline evaluation, through its form.
    with default_and_postgres.transaction() as s:
        run = s.scalars(select(CourseRun)).one()
        round_id = evaluation.open_round(s, run, "baseline", clock()).id
    questions = evaluation.questions_for("baseline")
    for n, name in enumerate(ANSWERS):
        values = {q: str(1 + (n + i) % 5) for i, q in enumerate(questions)}
        sub = Submission(
            Actor(f"u-{name.lower()}", name),
            Place("console", "console", f"dm-u-{name.lower()}", None, is_direct=True),
            "evaluation.answer",
            {**values, "comment": ""},
            context=str(round_id),
        )
        await bot.handle(sub)

    seen = read_everything(default_and_postgres)
    with default_and_postgres.transaction() as s:
        assert s.get_one(EvaluationRound, round_id).answer_count == 5
    with default_and_postgres.transaction() as s:
        round_ = s.scalars(select(CheckinRound)).one()
        assert round_.answer_count == 5
        assert len(s.scalars(select(CheckinRespondent)).all()) == 5
        totals = {(t.question, t.score): t.count for t in s.scalars(select(CheckinTally))}
    # Everything was counted (the sums by hand).
    for index, question in enumerate(INDICATORS):
        column = [scores[index] for scores, _ in ANSWERS.values()]
        assert {s: totals[(question, s)] for s in range(1, 6)} == {s: column.count(s) for s in range(1, 6)}

    # 1. No row holds an answer or an anonymous question next to a person.
    dumped = {table: json.dumps(rows, default=str) for table, rows in seen.items()}
    for table, blob in dumped.items():
        for question in QUESTIONS.values():
            if question in blob:
                assert table == "toolbox_pending_question", table
        if "Per skrev denne kommentaren" in blob:
            assert table == "checkin_round", table
    for table in CONTENT_TABLES:
        for row in seen[table]:
            assert not _names_a_person(table, row), (table, row)
    # The pool counts two different people without naming them.
    (pool,) = seen["toolbox_anonymous_pool"]
    askers = pool["askers"] if isinstance(pool["askers"], list) else json.loads(pool["askers"])
    assert len(askers) == 2
    ids_and_users = {str(r["id"]) for r in seen["member"]} | {r["user_id"] for r in seen["member"]}
    assert not ids_and_users & set(askers)
    # Pool ids are random, not a sequence that orders the questions.
    assert all(len(str(r["id"])) == 32 for r in seen["toolbox_pending_question"])

    # 2. Not even the row bookkeeping links them.
    if default_and_postgres.is_postgres:
        person_xmins = {r["_xmin"] for table, rows in seen.items() for r in rows if _names_a_person(table, r)}
        for table in CONTENT_TABLES:
            xmins = {r["_xmin"] for r in seen[table]}
            # Each anonymous area is rewritten as a whole: one transaction id for all its rows ...
            assert len(xmins) == 1, (table, xmins)
            # ... and never one that also wrote something naming a person.
            assert not xmins & person_xmins, table
        # The check-in's rows and the pool's rows were last written by the last answer and the last
        # question: they tell who came last, and nothing about what anyone answered or asked.
        for area in ("checkin", "evaluation"):
            tally_xmin = {r["_xmin"] for r in seen[f"{area}_tally"]}
            assert tally_xmin == {r["_xmin"] for r in seen[f"{area}_round"]}
    # Tally rows keep the order they were created in at the round's start, whatever was answered.
    order = [(r["question"], r["score"]) for r in seen["checkin_tally"]]
    assert (
        sorted(order, key=lambda k: (INDICATORS.index(k[0]), k[1])) == order
        or default_and_postgres.is_postgres
    )
    # One row per (indicator, score), never one per answer.
    assert len(seen["checkin_tally"]) == len(INDICATORS) * 5


async def test_thirty_concurrent_checkin_answers_are_all_counted(
    fresh_postgres_database: Database, clock
) -> None:  # type: ignore[no-untyped-def]
    db = fresh_postgres_database
    people = [("Kari", "leder"), *((f"Ansatt{i:02d}", "ansatt") for i in range(30))]
    bot, console = await enrolled(db, clock, people)
    clock.set(oslo(2027, 1, 7, 14).astimezone(UTC))
    await console.as_("Kari", "/parts sjekkinn")  # opens the week's round
    with db.transaction() as s:
        round_id = s.scalars(select(CheckinRound.id)).one()
    submissions = [
        Submission(
            Actor(f"u-ansatt{i:02d}", f"Ansatt{i:02d}"),
            Place("console", "console", f"dm-u-ansatt{i:02d}", None, is_direct=True),
            "checkin.answer",
            {**{q: str(1 + (i + n) % 5) for n, q in enumerate(INDICATORS)}, "comment": f"k{i}"},
            context=str(round_id),
        )
        for i in range(30)
    ]
    await asyncio.gather(*(bot.handle(sub) for sub in submissions))
    with db.transaction() as s:
        round_ = s.get_one(CheckinRound, round_id)
        assert round_.answer_count == 30
        assert len(s.scalars(select(CheckinRespondent)).all()) == 30
        assert sorted(round_.comments) == sorted(f"k{i}" for i in range(30))
        counts = {(t.question, t.score): t.count for t in s.scalars(select(CheckinTally))}
        for n, question in enumerate(INDICATORS):
            expected = [1 + (i + n) % 5 for i in range(30)]
            assert {sc: counts[(question, sc)] for sc in range(1, 6)} == {
                sc: expected.count(sc) for sc in range(1, 6)
            }
