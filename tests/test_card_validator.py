"""tools/node/validate-cards.js: Microsoft's `adaptivecards` parser, run from Python on the cards we send."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.node_tools import card_validator_missing, skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "node" / "validate-cards.js"
NODE = shutil.which("node")


@pytest.fixture(autouse=True)
def _card_validator() -> None:
    reason = card_validator_missing()
    if reason:
        skip_or_fail(reason)


def run_validator(payload: Any, *args: str) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run(
        [NODE, str(SCRIPT), *args],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def validate_cards(cards: list[Any], *args: str) -> list[dict[str, Any]]:
    result = run_validator(cards, *args)
    assert result.returncode == 0, result.stderr
    reports = json.loads(result.stdout)
    assert [r["index"] for r in reports] == list(range(len(cards)))
    return reports


def card(
    *body: dict[str, Any], actions: list[dict[str, Any]] | None = None, version: str = "1.5"
) -> dict[str, Any]:
    content: dict[str, Any] = {"type": "AdaptiveCard", "version": version, "body": list(body)}
    if actions is not None:
        content["actions"] = actions
    return content


GOOD = card(
    {"type": "TextBlock", "text": "Hva er problemet?", "wrap": True, "weight": "Bolder"},
    {"type": "Input.Text", "id": "problem", "label": "Beskriv det", "isMultiline": True},
    {
        "type": "Input.ChoiceSet",
        "id": "rolle",
        "label": "Rolle",
        "choices": [{"title": "Leder", "value": "leder"}, {"title": "Verneombud", "value": "verneombud"}],
    },
    actions=[
        {"type": "Action.Submit", "title": "Send", "data": {"step": "define"}},
        {"type": "Action.Execute", "title": "Stem", "verb": "vote", "data": {"idea": 1}},
    ],
)


def test_a_good_card_and_a_bogus_element_are_told_apart() -> None:
    bogus = card({"type": "TextBlock", "text": "hei"}, {"type": "Bogus", "text": "?"})
    good_report, bogus_report = validate_cards([GOOD, bogus])
    assert good_report == {"index": 0, "errors": [], "warnings": []}
    assert len(bogus_report["errors"]) == 1
    assert bogus_report["errors"][0].startswith("UnknownElementType:")
    assert '"Bogus"' in bogus_report["errors"][0]


def test_library_and_own_checks_report_errors() -> None:
    reports = validate_cards(
        [
            card(actions=[{"type": "Action.Bogus", "title": "x"}]),
            card({"type": "Input.Text", "id": "a"}, {"type": "Input.Text", "id": "a"}),
            card({"type": "TextBlock", "text": "x"}, version="1.6"),
            {"version": "1.5", "body": {}},
            "not a card",
            card({"type": "TextBlock", "text": "ø" * 20000}),
        ]
    )
    errors = [" ".join(r["errors"]) for r in reports]
    assert "UnknownActionType" in errors[0]
    assert "DuplicateId" in errors[1]
    assert "UnsupportedCardVersion" in errors[2]
    assert "MissingCardType" in errors[3] and "InvalidPropertyValue" in errors[3]
    assert "NotAnObject" in errors[4]
    assert "TooLarge" in errors[5]


def test_warnings_do_not_count_as_errors_and_limits_are_options() -> None:
    required = card({"type": "Input.Text", "id": "svar", "isRequired": True}, version="1.6")
    (report,) = validate_cards([required], "--max-version", "1.6")
    assert report["errors"] == []
    assert any(w.startswith("RequiredInputsShouldHaveLabel") for w in report["warnings"])
    (small,) = validate_cards([GOOD], "--max-bytes", "100")
    assert small["errors"][0].startswith("TooLarge")


@pytest.mark.parametrize("payload", [{"type": "AdaptiveCard"}, "[]"])
def test_input_that_is_not_a_json_array_exits_2(payload: Any) -> None:
    result = run_validator(payload)
    assert result.returncode == 2
    assert "JSON array" in result.stderr and result.stdout == ""
