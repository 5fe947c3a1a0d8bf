"""``partsbot demo kurs``: the plan with a check-in indicator, the trio's own meeting and the case that
closes with "Hvordan har vi det når målet er nådd?", and the trio's record with the meeting (PDF)."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader

from bot.demo.course import run_course_demo
from bot.settings import Settings


def _pdf(path: Path) -> str:
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(path).pages).split())


def test_the_course_demo_closes_the_loop_and_writes_the_trios_record(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_course_demo(Settings(env="test", extra={"PARTSBOT_CHART_DIR": str(tmp_path)}), out) == 0
    text = out.getvalue()
    # The plan names the indicator; the head shows its weeks before the action (none after yet).
    plan = text.index("trekanten lager planen for sak #1")
    assert "✎ Ola: /parts plan #1 indikator 1 arbeidsflyt" in text[plan:]
    assert "· Tiltak 1 skal bedre arbeidsflyt: før 2,2 (4 uker), etter – (0 uker)." in text[plan:]
    # The trio meeting goes to the trio only, with "hvorfor og hva vil vi" on its items.
    trio = text[text.index("kaller inn til et partsmøte med HØRA") :]
    assert "== Partsmøte (leder, verneombud og tillitsvalgt) torsdag 4.3.2027 kl. 15.00 (30 min) ==" in trio
    assert "_Hvorfor og hva vil vi:_ alle skal få sagt noe, også de som er stille" in trio
    # In April the case asks its question again with the trend, and closes with the answers.
    done = text[text.index("### April: tiltaket i sak #1 er gjort.") :]
    assert "*Alle tiltakene i sak #1 er gjort – hvordan har vi det når målet er nådd?*" in done
    assert "før 2,2 (4 uker), etter 2,8 (6 uker)." in done and "uke 9: 2,7 ▸" in done
    assert "Sak #1 er avsluttet av Ola." in done
    assert "• Per: Morgenene er roligere." in done
    # The staff's record has the closed case and the trend, but not the trio's meeting; the trio's has it.
    staff = _pdf(tmp_path / "hms-1.pdf")
    assert "Arbeidsflyt: før 2,2 (4 uker), etter 2,8" in staff and "avsluttet" in staff
    assert "Partsmøte" not in staff
    trio_pdf = _pdf(tmp_path / "hms-1-trio.pdf")
    assert "Partsmøte (leder, verneombud og tillitsvalgt) torsdag 4. mars kl. 15.00 (30 min)" in trio_pdf
    assert "Ønsket resultat nådd: Ja (Vi ledet samlingen sammen, og alle fikk sagt noe)" in trio_pdf
