"""The real entry point: ``partsbot run`` with no platform opens the console chat, driven by piped stdin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROLES_SCRIPT = """\
/som Kari leder
/som Ola verneombud
/som Siri tillitsvalgt
/parts roller
/som Kari
/tråd 4
Jeg har arbeidsgiveransvaret og må sørge for at vi følger opp.
/som Ola
Jeg tar opp arbeidsmiljøsaker fra alle ansatte.
/som Siri
Jeg representerer medlemmene og passer på avtalene.
/som Kari
/parts roller avslutt
"""


def run(args: list[str], cwd: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        timeout=120,
    )


def test_run_without_platforms_opens_console_chat_and_says_so(tmp_path: Path) -> None:
    result = run(["run"], tmp_path, ROLES_SCRIPT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "Ingen Slack- eller Teams-innstillinger funnet – starter den lokale konsollchatten"
    )
    out = result.stdout
    assert "*Leder* (1 svar)" in out and "*Verneombud* (1 svar)" in out and "*Tillitsvalgt* (1 svar)" in out
    assert "• Ola: Jeg tar opp arbeidsmiljøsaker fra alle ansatte." in out
    assert (tmp_path / "partsbot.sqlite3").exists()
    # A second start continues in the same file: the round is closed, the roles are still there.
    again = run(["chat"], tmp_path, "/parts rolle\n")
    assert "*Verneombud:* Ola" in again.stdout
    assert "Du er nå Kari." in again.stdout


def test_db_upgrade_command(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], tmp_path, "")
    assert result.returncode == 0, result.stderr
    assert "database is up to date: sqlite:///partsbot.sqlite3" in result.stdout
