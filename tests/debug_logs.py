"""Shared by the DEBUG log tests (tests/slack, tests/teams): logs at DEBUG hold no free text and no link
from a person to what they wrote (issue 10, SEC-06/08/12).

Whole cases run end to end – Slack over signed requests, Teams over Activities – with Partsbot's logging
set up as ``PARTSBOT_LOG_LEVEL=DEBUG`` does it (``configure_logging``: library loggers capped, body
filter on the handlers). Then every captured record is searched for what people wrote and for lines
that put an anonymous asker's id next to the anonymous flow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import CAPS, cap_libraries


class AtDebug:
    """``caplog`` for the reused whole-case tests: whatever level they ask for, DEBUG is captured."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def set_level(self, level: int | str, logger: str | None = None) -> None:
        self.caplog.set_level(logging.DEBUG, logger)

    @property
    def records(self) -> list[logging.LogRecord]:
        return self.caplog.records


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[AtDebug]:
    caplog.set_level(logging.DEBUG)
    before = {name: logging.getLogger(name).level for name in CAPS}
    cap_libraries(logging.DEBUG)
    yield AtDebug(caplog)
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)
    for handler in logging.getLogger().handlers:
        handler.filters = [f for f in handler.filters if type(f).__name__ != "DropBodies"]


def lines_of(records: list[logging.LogRecord]) -> list[str]:
    lines = []
    for record in records:
        text = f"{record.name} {record.getMessage()}"
        if record.exc_info:
            text += " " + logging.Formatter().formatException(record.exc_info)
        lines.append(text)
    return lines


def assert_clean(lines: list[str], free_text: list[str], askers: list[str]) -> None:
    logged = "\n".join(lines)
    leaked = [text for text in free_text if text in logged]
    assert leaked == [], leaked
    for line in lines:
        if any(asker in line for asker in askers):
            assert not any(w in line.lower() for w in ("blindsone", "blindspot", "anonym", "ephemeral")), line
    # The SDKs' own request logging stayed off (it quotes bodies with user ids).
    assert not [line for line in lines if line.startswith(("slack_sdk", "slack_bolt", "urllib3", "msrest"))]
