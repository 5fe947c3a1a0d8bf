"""Microsoft's own validators, installed from npm into tools/node (``make node-tools``).

The Adaptive Card parser (``adaptivecards``, run by tools/node/validate-cards.js) and the Teams manifest
schemas (``@microsoft/app-manifest``) are what the Teams tests check our cards and manifest against. On a
developer machine without npm those checks skip and say why. CI sets ``PARTSBOT_TEST_REQUIRE_NODE=1``
(.ci/run), and then a missing validator fails the run instead: CI never passes without Microsoft's checks.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_TOOLS = ROOT / "tools" / "node"
NODE = shutil.which("node")
CARD_VALIDATOR = NODE_TOOLS / "validate-cards.js"
MANIFEST_SCHEMAS = NODE_TOOLS / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas"
REQUIRED = os.environ.get("PARTSBOT_TEST_REQUIRE_NODE", "") == "1"
INSTALL = "run `make node-tools` (npm ci --prefix tools/node)"


def card_validator_missing() -> str | None:
    """Why Microsoft's card parser cannot run here, or None when it can."""
    if NODE is None:
        return "node is not installed: the card validator runs on Node.js"
    if not CARD_VALIDATOR.is_file() or not (NODE_TOOLS / "node_modules" / "adaptivecards").is_dir():
        return f"tools/node/node_modules (adaptivecards) is missing: {INSTALL}"
    return None


def manifest_schemas_missing() -> str | None:
    """Why Microsoft's Teams manifest schemas are not here, or None when they are."""
    if not MANIFEST_SCHEMAS.is_dir():
        return f"tools/node/node_modules (@microsoft/app-manifest) is missing: {INSTALL}"
    return None


def skip_or_fail(reason: str) -> NoReturn:
    """Skip (saying why) on a developer machine; fail where the validators are required (CI)."""
    if REQUIRED:
        pytest.fail(f"PARTSBOT_TEST_REQUIRE_NODE=1 but {reason}", pytrace=False)
    pytest.skip(reason)


_warned = False


def cards_cannot_be_validated() -> bool:
    """For checks that run after every Teams test: True when the parser is missing (and allowed to be).

    Fails where the validators are required; elsewhere warns once per run, so a green run without the
    parser says so in pytest's warnings summary instead of passing in silence.
    """
    global _warned
    reason = card_validator_missing()
    if reason is None:
        return False
    if REQUIRED:
        pytest.fail(f"PARTSBOT_TEST_REQUIRE_NODE=1 but {reason}", pytrace=False)
    if not _warned:
        _warned = True
        warnings.warn(f"Teams cards were NOT checked with Microsoft's parser: {reason}", stacklevel=2)
    return True
