"""``partsbot demo kurs`` with its second kindergarten: the reflections' digests (withheld for three and
three after a trio module, shown for ten pooled answers after a staff gathering), module 6's exchange
between Solsikken and Blåbær, and the shared results to every member."""

from __future__ import annotations

import io
from pathlib import Path

from bot.demo.course import run_course_demo
from bot.settings import Settings


def test_the_course_demo_shows_the_digests_and_the_exchange_between_two_kindergartens(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_course_demo(Settings(env="test", extra={"PARTSBOT_CHART_DIR": str(tmp_path)}), out) == 0
    text = out.getvalue()
    # Reflections: asked privately to those each module was for.
    assert "→ refleksjon etter modul 1 (de modulen var for, privat) · 3 meldinger" in text
    assert "→ refleksjon etter modul 2 (de modulen var for, privat) · 6 meldinger" in text
    withheld = text.split("== Refleksjonene etter modul 1 ==", 1)[1].split("###", 1)[0]
    assert (
        "kan ikke vises denne gangen, selv med svarene fra Solsikken barnehage, Blåbær barnehage" in withheld
    )
    shown = text.split("== Refleksjonene etter modul 2 ==", 1)[1].split("###", 1)[0]
    assert "13 har svart, fra Solsikken barnehage, Blåbær barnehage." in shown
    assert shown.count("\n  • ") == 13
    # The exchange: both pages posted after the other party confirmed; a question answered in the thread.
    assert "Siri (tillitsvalgt) foreslår å dele dette" in text
    assert "Tor (verneombud) foreslår å dele dette" in text
    assert "== Slik gjorde vi det – Solsikken barnehage ==" in text
    assert "== Slik gjorde vi det – Blåbær barnehage ==" in text
    assert "💬 Svar fra Solsikken barnehage:" in text
    # Module 6: every member gets the course's results, not only the leader.
    assert "[direktemelding til Per] Partsbot:\n\n  == Kursets resultater for Solsikken barnehage ==" in text
    # Blåbær's own nudges went out but are not narrated: Solsikken's counts are as before.
    assert "→ evaluering etter kurset (alle, privat) · 6 meldinger" in text
