"""The layers hold: the import contracts in pyproject.toml (also run by `make lint` as lint-imports) are
kept, they do catch a wrong import, and nothing hides an import from them by naming a module in a string.
"""

from __future__ import annotations

import ast
from copy import deepcopy
from pathlib import Path

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_TYPES = {
    "layers": LayersContract,
    "independence": IndependenceContract,
    "forbidden": ForbiddenContract,
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("bot", "handlers", include_external_packages=True, cache_dir=None)


def broken_contracts(graph: grimp.ImportGraph) -> list[str]:
    options = read_configuration(str(ROOT / "pyproject.toml"))
    broken = []
    for contract_options in options["contracts_options"]:
        contract = CONTRACT_TYPES[contract_options["type"]](
            name=contract_options["name"],
            session_options=options["session_options"],
            contract_options=contract_options,
        )
        if not contract.check(deepcopy(graph), verbose=False).kept:
            broken.append(contract.name)
    return broken


def test_the_import_contracts_are_kept(graph: grimp.ImportGraph) -> None:
    assert broken_contracts(graph) == []


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        ("bot.storage.db", "bot.adapters.slack.models", "Layers"),
        ("bot.toolbox.planning", "bot.course.runs", "Layers"),  # the old cycle
        ("bot.course.scheduler", "bot.core", "Layers"),
        ("bot.dates.calendar", "bot.toolbox.models", "Layers"),
        ("handlers.vote", "bot.adapters.console.chat", "Layers"),
        ("handlers.vote", "slack_sdk", "free of platform SDKs"),
        ("bot.adapters.slack.home", "bot.adapters.teams.render", "do not know each other"),
        ("bot.adapters.console.chat", "botbuilder", "Bot Framework stays inside"),
    ],
)
def test_a_wrong_import_breaks_a_contract(
    graph: grimp.ImportGraph, importer: str, imported: str, contract: str
) -> None:
    wrong = deepcopy(graph)
    wrong.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    broken = broken_contracts(wrong)
    assert any(contract in name for name in broken), broken


def test_every_part_of_bot_has_a_layer() -> None:
    """A new package or module under bot/ must be placed in the layers, or nothing checks it."""
    options = read_configuration(str(ROOT / "pyproject.toml"))
    (layers,) = [c["layers"] for c in options["contracts_options"] if c["type"] == "layers"]
    placed = {name.strip("() ") for layer in layers for name in layer.split("|")}
    parts = {
        f"bot.{path.stem if path.is_file() else path.name}"
        for path in (ROOT / "bot").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert parts - placed == set()


def _named_imports(source: str) -> list[int]:
    """Lines that import a module named by a string (importlib.import_module, __import__)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                found.append(node.lineno)
    return found


def test_no_module_is_imported_by_name() -> None:
    """An import by string is invisible to the contracts (it once let storage load the Slack adapter)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in ("bot", "handlers")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in _named_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_name_check_itself_finds_one() -> None:
    source = "import importlib\nimportlib.import_module('bot.adapters.slack.models')\n__import__('x')\n"
    assert _named_imports(source) == [2, 3]
