"""Handlers and domain code stay free of platform SDKs, so every tool runs on every platform."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework")
NEUTRAL = ["handlers", "bot/chat", "bot/toolbox", "bot/course", "bot/storage"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_neutral_code_imports_no_platform_sdk() -> None:
    offenders = []
    for folder in NEUTRAL:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for module in imported_modules(path):
                if module.split(".")[0] in PLATFORM_SDKS:
                    offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_botbuilder_stays_inside_the_teams_adapter() -> None:
    offenders = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if "adapters/teams" in path.as_posix():
            continue
        for module in imported_modules(path):
            if module.split(".")[0] in ("botbuilder", "botframework"):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_the_check_itself_catches_an_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from slack_sdk import WebClient\nimport botbuilder.core\n")
    assert {"slack_sdk", "botbuilder.core"} <= imported_modules(bad)
