"""The HMS record (``partsbot export``): cases, plans, decisions, actions, HØRA meetings and the course, as
PDF, CSV and JSON that a leader can file in the internkontroll; parties-only material only for the trio,
figures only above the thresholds, and never a comment or an anonymous question."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.cli import build_bot, main
from bot.demo.case import demo_run, play_case
from bot.record import hms
from bot.record.files import write
from bot.settings import Settings, load_settings
from bot.storage.models import Unit
from tests.console_driver import ConsoleDriver
from tests.course.course_helpers import team


def pdf_text(path: Path) -> str:
    """The PDF's text with white space folded, so line wrapping does not matter."""
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(path).pages).split())


async def two_cases_and_a_meeting(console: ConsoleDriver) -> None:
    await console.start()
    await team(console)
    await console.as_("Ola", "/parts problem Garderoben om morgenen er kaotisk")
    await console.type("/parts problem --parter Konflikt mellom to på avdelingen, én vurderer å si opp")
    await console.as_("Kari", "/parts høra sak 1")
    await console.type(
        "Fordele oppgavene i garderoben", "En fordeling alle kjenner", "Beslutning: Garderoben (20)"
    )
    await console.type("fredag", "14", "30", "")


def record(database, clock, *, for_trio: bool, language: str = "nb") -> hms.HmsRecord:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        unit = session.get(Unit, 1)
        assert unit is not None
        return hms.collect(session, unit, clock(), language, for_trio=for_trio)


async def test_parties_only_cases_are_in_the_record_for_the_trio_only(
    make_bot, clock, database, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await two_cases_and_a_meeting(console)

    staff = record(database, clock, for_trio=False)
    assert [c.number for c in staff.cases] == [1]
    assert [(m.purpose, m.case) for m in staff.meetings] == [("Fordele oppgavene i garderoben", 1)]
    assert [(i.kind, i.title, i.minutes) for i in staff.meetings[0].items] == [("[B]", "Garderoben", 20)]
    trio = record(database, clock, for_trio=True)
    assert [(c.number, c.parties_only) for c in trio.cases] == [(1, False), (2, True)]

    for fmt in ("pdf", "csv", "json"):
        write(staff, fmt, tmp_path / f"staff.{fmt}")  # type: ignore[arg-type]
        write(trio, fmt, tmp_path / f"trio.{fmt}")  # type: ignore[arg-type]
    text = pdf_text(tmp_path / "staff.pdf")
    assert "HMS-dokumentasjon: partssamarbeid i Solsikken barnehage" in text
    assert "Sak 1: Garderoben om morgenen er kaotisk" in text
    assert "Saker bare for partene er ikke med." in text
    assert "Konflikt" not in text
    assert "Ønsket resultat: En fordeling alle kjenner" in text
    trio_text = pdf_text(tmp_path / "trio.pdf")
    assert "Sak 2: Konflikt mellom to på avdelingen" in trio_text
    assert "(bare for partene)" in trio_text
    assert "arkiver det der bare de kan lese det" in trio_text
    assert "Konflikt" not in (tmp_path / "staff.csv").read_text(encoding="utf-8-sig")
    assert "Konflikt" not in (tmp_path / "staff.json").read_text(encoding="utf-8")
    rows = list(
        csv.reader(io.StringIO((tmp_path / "trio.csv").read_text(encoding="utf-8-sig")), delimiter=";")
    )
    assert rows[0] == ["Hva", "Nr.", "Tittel", "Detaljer", "Hvem", "Når", "Status"]
    assert [r[:3] for r in rows[1:3]] == [
        ["sak", "1", "Garderoben om morgenen er kaotisk"],
        ["sak", "2", "Konflikt mellom to på avdelingen, én vurderer å si opp"],
    ]
    assert rows[3][0] == "møte" and rows[3][2] == "Fordele oppgavene i garderoben"
    data = json.loads((tmp_path / "trio.json").read_text(encoding="utf-8"))
    assert [c["number"] for c in data["cases"]] == [1, 2] and data["for_trio"] is True


class Transcript(io.StringIO):
    """The demo's output, kept as the list of pieces its script reads message numbers from."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []

    def write(self, text: str) -> int:
        self.pieces.append(text)
        return len(text)


async def test_the_record_of_the_seed_case_has_the_plan_decision_and_actions(tmp_path: Path) -> None:
    out = Transcript()
    with demo_run(Settings(env="test"), out) as run:
        await run.chat.start()
        assert await play_case(run, out.pieces), "".join(out.pieces)[-2000:]
        with run.bot.db.transaction() as session:
            unit = session.get(Unit, 1)
            assert unit is not None
            nb = hms.collect(session, unit, run.clock(), "nb", for_trio=False)
            nn = hms.collect(session, unit, run.clock(), "nn", for_trio=False)
    case = nb.cases[0]
    assert case.step == "Besluttet"
    assert case.goal and case.actions and all(a.owner and a.due for a in case.actions)
    # The leader decides after the representatives are heard; each stance is on the record.
    assert case.decision.startswith("Besluttet av leder Kari etter drøfting med verneombud Ola: enig;")
    # Anonymous blind-spot questions are counted, never quoted.
    assert case.questions >= 3
    path = write(nb, "pdf", tmp_path / "hms.pdf")
    text = pdf_text(path)
    for action in case.actions:
        assert f"Tiltak {action.number}: {action.text} – {action.owner}" in text
    assert f"Mål: {case.goal}" in text
    assert "Hvorfor står ikke oppgavene på vaktlista?" not in text
    assert ("Slik har vi det når målet er nådd" in text) == bool(case.outcome)
    nn_text = pdf_text(write(nn, "pdf", tmp_path / "hms-nn.pdf"))
    assert "HMS-dokumentasjon: partssamarbeid i Solsikken barnehage" in nn_text
    assert "Avgjerd:" in nn_text and "Beslutning:" not in nn_text


async def test_the_course_part_keeps_the_thresholds(make_bot, clock, database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.course.course_helpers import oslo, walk

    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await team(console)
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    # Check-in week 1 (Thursday 7 January): three answer, under the minimum group of five.
    await walk(bot, clock, oslo(2027, 1, 7, 13, 5))
    for name in ("Kari", "Ola", "Per"):
        await console.as_(name, "/parts sjekkinn")
        await console.type("4", "4", "4", "4", "4", "4", "Hemmelig kommentar fra " + name)
    await walk(bot, clock, oslo(2027, 1, 20, 12))
    result = record(database, clock, for_trio=False)
    assert [(m[0], m[2]) for m in result.modules[:2]] == [
        ("Modul 1: digital samling", True),
        ("Modul 2: samling med personalet", False),
    ]
    assert result.checkins and result.checkins[0].answers == 3 and result.checkins[0].means is None
    text = pdf_text(write(result, "pdf", tmp_path / "course.pdf"))
    assert "Uke 1: 3 av 6 svarte" in text
    assert "Hemmelig" not in text
    assert "færre enn 5 svarte" in text


def test_partsbot_export_writes_the_file_and_refuses_an_unknown_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'partsbot.sqlite3'}")
    bot = build_bot(load_settings())
    asyncio.run(two_cases_and_a_meeting(ConsoleDriver(bot)))
    bot.db.dispose()
    out = tmp_path / "out"
    out.mkdir()

    assert main(["export", "--unit", "Solsikken barnehage", "--format", "json", "--out", str(out)]) == 0
    written = Path(capsys.readouterr().out.strip().removeprefix("wrote "))
    assert written.parent == out and written.name.startswith("hms-1-") and written.suffix == ".json"
    data = json.loads(written.read_text(encoding="utf-8"))
    assert [c["number"] for c in data["cases"]] == [1]  # the operator's file leaves parties-only out
    assert main(["export", "--unit", "1", "--trio", "--out", str(out / "t.json"), "--format", "json"]) == 0
    assert [c["number"] for c in json.loads((out / "t.json").read_text(encoding="utf-8"))["cases"]] == [1, 2]
    capsys.readouterr()
    assert main(["export", "--unit", "Blåklokka", "--out", str(out)]) == 2
    assert "no unit is called 'Blåklokka'" in capsys.readouterr().err


async def test_parts_eksport_sends_the_trio_a_pdf_and_refuses_staff(make_bot, database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await two_cases_and_a_meeting(console)
    out = await console.as_("Per", "/parts eksport")
    assert "HMS-dokumentasjonen er for leder, verneombud og tillitsvalgt i barnehagen." in out
    assert "hms-1-" not in out
    out = await console.as_("Siri", "/parts eksport")
    assert "Jeg har sendt deg HMS-dokumentasjonen i en direktemelding." in out
    assert (
        "[direktemelding til Siri] Partsbot:\n  == HMS-dokumentasjon: partssamarbeid i Solsikken barnehage =="
        in out
    )
    assert "1 sak · 0 tiltak · 1 møte med HØRA." in out
    # The console writes the file into a private folder and prints its path: a real PDF, with æøå.
    pdf = tmp_path / "partsbot-files" / "hms-1-2026-11-24.pdf"
    assert "[hms-1-2026-11-24.pdf]" in out and f"→ {pdf}" in out
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "HMS-dokumentasjon: partssamarbeid i Solsikken barnehage" in pdf_text(pdf)
    assert "Konflikt" not in pdf_text(pdf)  # the parties-only case only when asked for
    out = await console.type("/parts eksport parter")
    assert "Dokumentet har med saker bare for partene." in out
    assert "Konflikt" in pdf_text(pdf)
    out = await console.type("/parts eksport csv")
    table = tmp_path / "partsbot-files" / "hms-1-2026-11-24.csv"
    assert f"→ {table}" in out and table.read_text(encoding="utf-8").startswith("Hva;Nr.;Tittel")
    assert "Skriv `/parts eksport` for PDF" in await console.type("/parts eksport alt")
