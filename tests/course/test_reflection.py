"""The reflection after each module: asked privately to those the module was for, stored without a name,
and shown to the trio before the next module as a digest – only from ten answers, otherwise the trio is
told plainly (without a count). Both databases; on PostgreSQL also what an operator can read."""

from __future__ import annotations

import json
from datetime import UTC

from sqlalchemy import select

from bot.chat.model import Actor, Place, Submission
from bot.core import Partsbot
from bot.course.models_exchange import ReflectionRespondent, ReflectionRound
from bot.settings import Settings
from bot.storage.db import Database
from handlers import build_router
from tests.console_driver import ConsoleDriver, option_number
from tests.course.course_helpers import TEAM, oslo, team, walk
from tests.course.test_anonymity_operator_view import _names_a_person, read_everything

BUTTON = "Skriv refleksjonen din"
MORE_STAFF = tuple(
    (name, "ansatt")
    for name in ("Mari", "Lena", "Ali", "Nora", "Emil", "Sofie", "Tiril", "Jon", "Vera", "Odd")
)


async def enrolled(db: Database, clock, people=TEAM) -> tuple[Partsbot, ConsoleDriver]:  # type: ignore[no-untyped-def]
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot = Partsbot(Settings(database_url=db.url, env="test"), db, build_router(), clock)
    console = ConsoleDriver(bot)
    await console.start()
    await team(console, people)
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    console.take()
    return bot, console


async def reflect(bot: Partsbot, name: str, round_id: int, text: str) -> None:
    """``name`` sends the reflection form from their direct chat (as the button's form does)."""
    user = f"u-{name.lower()}"
    place = Place("console", "console", f"dm-{user}", None, is_direct=True)
    await bot.handle(Submission(Actor(user, name), place, "reflection.answer", {"text": text}, str(round_id)))


def section(out: str, head: str) -> str:
    assert head in out, out
    return out.split(head, 1)[1].split(" Partsbot:", 1)[0]


def round_id(db: Database, module: int) -> int:
    with db.transaction() as s:
        return s.scalars(select(ReflectionRound.id).where(ReflectionRound.module == module)).one()


async def test_a_small_unit_gets_no_digest_and_is_told_so_plainly(
    default_and_postgres: Database, clock
) -> None:  # type: ignore[no-untyped-def]
    db = default_and_postgres
    bot, console = await enrolled(db, clock)
    # Module 1 (digital, for the trio) on 11 January; the question the next working day at 11:00.
    await walk(bot, clock, oslo(2027, 1, 12, 11, 5))
    out = console.take()
    assert "[direktemelding til Ola] Partsbot:\n  == Tenk tilbake ==" in out
    assert "Hva tok du med deg om din egen rolle i partssamarbeidet" in out
    # Module 1 was for the trio: the staff are not asked.
    assert "[direktemelding til Per] Partsbot:\n  == Tenk tilbake ==" not in out
    number = option_number(out, BUTTON)
    refused = await console.as_("Per", number)
    assert "Refleksjon etter modul 1" not in refused

    # Ola answers through the console: the button opens the form in his direct chat.
    form = await console.as_("Ola", number)
    assert "== Refleksjon etter modul 1 ==" in form
    thanks = await console.type("Jeg skjønte at verneombudet ikke er lederens forlengede arm")
    assert "Takk! Refleksjonen din er lagret uten navn." in thanks
    again = await console.as_("Ola", number)
    assert "Du har allerede svart på denne refleksjonen" in again
    await reflect(bot, "Siri", round_id(db, 1), "Tillitsvalgt og verneombud er to ulike roller")
    with db.transaction() as s:
        row = s.get_one(ReflectionRound, round_id(db, 1))
        assert row.answer_count == 2
        assert len(s.scalars(select(ReflectionRespondent)).all()) == 2

    # Two working days before module 2 (1 February): the trio is told the digest cannot be shown.
    sent = await walk(bot, clock, oslo(2027, 1, 28, 9, 5))
    assert "run:1:reflection-digest:m2" in [k for _, k in sent]
    out = console.take()
    assert "[direktemelding til Kari] Partsbot:\n  == Refleksjonene etter modul 1 ==" in out
    assert "Refleksjonene kan ikke vises denne gangen" in out
    assert "verneombudet ikke er lederens forlengede arm" not in out
    # Neither how many answered nor how many more were needed.
    digest = out.split("== Refleksjonene etter modul 1 ==", 1)[1].split("Partsbot:", 1)[0]
    assert not any(str(n) in digest.replace("minst 10 av svarene", "") for n in range(1, 10)), digest
    with db.transaction() as s:
        row = s.get_one(ReflectionRound, round_id(db, 1))
        assert (row.status, row.answers) == ("withheld", [])
        assert s.scalars(select(ReflectionRespondent)).all() == []
    # The round is closed: a late answer is refused.
    late = await console.as_("Siri", number)
    assert "Refleksjonene etter modul 1 er allerede samlet" in late


async def test_a_staff_gathering_digest_needs_ten_answers_the_trio_did_not_write(
    default_and_postgres: Database, clock
) -> None:  # type: ignore[no-untyped-def]
    db = default_and_postgres
    people = (*TEAM, *MORE_STAFF)
    bot, console = await enrolled(db, clock, people)
    # Module 2 (a staff gathering, 1 February 18:00) is for everyone: all sixteen are asked.
    await walk(bot, clock, oslo(2027, 2, 2, 11, 5))
    out = console.take()
    assert "[direktemelding til Mari] Partsbot:\n  == Tenk tilbake ==" in out
    # Twelve answer, the trio among them: only nine were written by others than the three who read the
    # digest, so it is withheld although twelve answered.
    texts = {name: f"Refleksjon nummer {i} om rollene" for i, (name, _) in enumerate(people[:12])}
    for name, text in texts.items():
        await reflect(bot, name, round_id(db, 2), text)

    if db.is_postgres:
        # What an operator reads: the texts only in the round row, next to no person, and that row was last
        # written by a transaction that wrote nothing naming anyone.
        seen = read_everything(db)
        blob = {table: json.dumps(rows, default=str) for table, rows in seen.items()}
        for table, dumped in blob.items():
            if "Refleksjon nummer 3" in dumped:
                assert table == "reflection_round", table
        person_xmins = {r["_xmin"] for table, rows in seen.items() for r in rows if _names_a_person(table, r)}
        (row,) = [r for r in seen["reflection_round"] if r["module"] == 2]
        assert not _names_a_person("reflection_round", row)
        assert row["_xmin"] not in person_xmins
        stored = row["answers"] if isinstance(row["answers"], list) else json.loads(row["answers"])
        assert sorted(stored) == sorted(texts.values())

    await walk(bot, clock, oslo(2027, 2, 18, 9, 5))
    out = console.take()
    withheld = section(out, "[direktemelding til Siri] Partsbot:\n  == Refleksjonene etter modul 2 ==")
    assert "Refleksjonene kan ikke vises denne gangen" in withheld
    assert "Refleksjon nummer" not in out

    # Module 4 (15 March): thirteen answer, the trio among them – ten by others, so the trio gets them.
    await walk(bot, clock, oslo(2027, 3, 16, 11, 5))
    texts = {name: f"Tanke nummer {i} om idéjakten" for i, (name, _) in enumerate(people[:13])}
    for name, text in texts.items():
        await reflect(bot, name, round_id(db, 4), text)
    console.take()
    # Two working days before module 5 (5 April; Easter Monday is 29 March): Thursday 1 April 09:00.
    await walk(bot, clock, oslo(2027, 4, 1, 9, 5))
    out = console.take()
    head = "[direktemelding til Siri] Partsbot:\n  == Refleksjonene etter modul 4 =="
    shown = section(out, head)
    assert "13 har svart. Slik tenkte dere etter modulen" in shown
    lines = [line.strip()[2:] for line in shown.splitlines() if line.strip().startswith("• ")]
    assert lines == sorted(texts.values())
    # The digest is the trio's: the staff do not get it.
    assert "[direktemelding til Per] Partsbot:\n  == Refleksjonene etter modul 4 ==" not in out
    with db.transaction() as s:
        row4 = s.get_one(ReflectionRound, round_id(db, 4))
        assert (row4.status, row4.answers, row4.answer_count) == ("shown", [], 13)


async def test_at_module_6_every_member_gets_the_shared_results_that_pass_the_thresholds(
    default_and_postgres: Database, clock
) -> None:  # type: ignore[no-untyped-def]
    from bot.course import evaluation, survey
    from bot.course.models import CourseRun
    from bot.storage.models import Member

    db = default_and_postgres
    bot, console = await enrolled(db, clock)
    await walk(bot, clock, oslo(2027, 3, 1, 12))
    with db.transaction() as s:
        run = s.scalars(select(CourseRun)).one()
        members = s.scalars(select(Member).order_by(Member.id)).all()
        # Module 1's evaluation: five answers (shown); module 2's: four (hidden).
        for module, count in ((1, 5), (2, 4)):
            round_ = evaluation.find_round(s, run.id, f"module-{module}")
            assert round_ is not None
            for member in members[:count]:
                survey.record(s, round_, member.id, {"useful": 4 if member.id % 2 else 3, "will_use": 4})
    console.take()
    # Module 6 is on 26 April 09:00 (the defaults: three weeks apart); the results go at its start.
    sent = await walk(bot, clock, oslo(2027, 4, 26, 9, 5))
    assert "run:1:shared-results:m6" in [k for _, k in sent]
    out = console.take()
    for name in ("Per", "Aisha", "Kari"):
        assert (
            f"[direktemelding til {name}] Partsbot:\n  == Kursets resultater for Solsikken barnehage =="
            in out
        )
    results = out.split("[direktemelding til Per] Partsbot:\n  == Kursets resultater", 1)[1].split(
        "Partsbot:"
    )[0]
    # Module 1's mean is shown; "will use", answered alike by all five, is left out.
    assert "• Modul 1: Nyttig 3," in results
    assert "Vil bruke det" not in results
    assert "• Modul 2: for få svar til å vises (minst 5)" in results
    assert "Kommentarer er ikke med." in results


async def test_answers_whose_digest_never_comes_are_deleted_unread(
    default_and_postgres: Database, clock
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from bot.course import runs
    from bot.course.models import CourseRun
    from bot.course.scheduler import tick

    db = default_and_postgres
    bot, _ = await enrolled(db, clock)
    await walk(bot, clock, oslo(2027, 1, 12, 11, 5))
    await reflect(bot, "Kari", round_id(db, 1), "Dette skal ingen lese")
    with db.transaction() as s:
        runs.finish(s, s.scalars(select(CourseRun)).one())  # the run ends: no digest will come
    clock.set(oslo(2027, 1, 12, 11, 5).astimezone(UTC) + timedelta(days=59))
    await tick(bot, clock())
    with db.transaction() as s:
        assert s.get_one(ReflectionRound, round_id(db, 1)).answers == ["Dette skal ingen lese"]
    clock.set(clock() + timedelta(days=2))
    await tick(bot, clock())
    with db.transaction() as s:
        row = s.get_one(ReflectionRound, round_id(db, 1))
        assert (row.status, row.answers) == ("withheld", [])
        assert s.scalars(select(ReflectionRespondent)).all() == []
