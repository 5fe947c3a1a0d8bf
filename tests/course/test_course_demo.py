"""``run_course_demo``: a whole course on a simulated clock, ending with the weekly summary and its chart."""

from __future__ import annotations

import io
from pathlib import Path

from bot.demo.course import run_course_demo
from bot.settings import Settings


def test_the_course_demo_plays_a_whole_run_and_ends_with_the_summary_and_chart(tmp_path: Path) -> None:
    out = io.StringIO()
    code = run_course_demo(Settings(env="test", extra={"PARTSBOT_CHART_DIR": str(tmp_path)}), out)
    assert code == 0
    text = out.getvalue()
    lines = text.splitlines()
    # Every module's reminder, the tools after the digital modules, the exercises, the evaluations.
    # Digital modules and the exchange are for the trio (three direct messages), staff gatherings for all
    # (one post in the channel).
    for module in range(1, 7):
        sent = 1 if module in (2, 4) else 3
        word = "melding" if sent == 1 else "meldinger"  # a plural rule, never "melding(er)"
        assert f"→ påminnelse før modul {module} (de modulen er for) · {sent} {word}\n" in text
    for module in (1, 3, 5):
        assert f"→ modul {module} i korte trekk (kanalen) · 1 melding\n" in text
        assert f"→ verktøy å prøve etter modul {module} (kanalen)" in text
    assert text.count("→ ukens lille øvelse (kanalen)") == 10
    assert "→ evaluering etter kurset (alle, privat) · 6 meldinger" in text
    assert "(er)" not in text
    assert "✎ 3 av 6 svarte på sjekk-inn (anonymt)" in text
    # It ends with the last weekly summary in full and the path of its chart.
    final = text[text.index("### Siste ukeoppsummering, slik leder får den: ###") :]
    assert "[direktemelding til Kari] Partsbot:\n  == Ukeoppsummering – Solsikken barnehage ==" in final
    assert "• Sjekk-inn uke 17: 3 av 6" in final
    assert "Alle modulene er gjennomført." in final
    [shown] = [line for line in lines if line.startswith("### Grafen i oppsummeringen ligger her: ")]
    chart = shown.split("ligger her: ", 1)[1].removesuffix(" ###")
    assert Path(chart).parent == tmp_path
    assert Path(chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The HMS record the leader would file after the course, as a PDF beside the chart.
    [filed] = [line for line in lines if "(PDF) ligger her: " in line]
    record = Path(filed.split("(PDF) ligger her: ", 1)[1].removesuffix(" ###"))
    assert record.parent == tmp_path and record.read_bytes()[:5] == b"%PDF-"
    from pypdf import PdfReader

    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(record).pages).split())
    assert "HMS-dokumentasjon: partssamarbeid i Solsikken barnehage" in text
    assert "Evaluering før og etter kurset" in text
    assert lines[-1].startswith("### Demoen er ferdig")
