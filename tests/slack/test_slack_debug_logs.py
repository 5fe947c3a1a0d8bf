"""A whole case at DEBUG: the log holds no free text and no link from a person to what they wrote
(issue 10; see tests/debug_logs.py)."""

from __future__ import annotations

import logging

import pytest

from bot.logs import CAPS, cap_libraries
from tests.conftest import FakeClock
from tests.debug_logs import AtDebug, assert_clean, debug_logs, lines_of
from tests.slack import test_slack_case as slack_case
from tests.slack.fakes import SlackDriver

__all__ = ["debug_logs"]  # the fixture, used by name


async def test_a_whole_slack_case_at_debug_logs_no_free_text(
    slack: SlackDriver, clock: FakeClock, debug_logs: AtDebug
) -> None:
    await slack_case.test_a_whole_case_from_problem_to_an_agreed_plan(slack, clock, debug_logs)  # type: ignore[arg-type]
    lines = lines_of(debug_logs.records)
    assert lines, "nothing was logged at all: the capture is not working"
    free_text = [
        slack_case.SEED,
        slack_case.SHARPER,
        *slack_case.ANSWERS,
        *slack_case.ANONYMOUS.values(),
        slack_case.GOAL,
        slack_case.ACTION,
    ]
    assert_clean(lines, free_text, list(slack_case.ANONYMOUS))


def test_a_request_with_a_bad_signature_is_not_logged_with_its_body(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cap_libraries(logging.DEBUG)
    try:
        logging.getLogger("slack_bolt.RequestVerification").warning(
            "Invalid request signature detected (signature: v0=x, timestamp: 1, body: text=hemmelig)"
        )
        logging.getLogger("slack_bolt.RequestVerification").info("body: text=hemmelig")
    finally:
        for name in CAPS:
            logging.getLogger(name).setLevel(logging.NOTSET)
    assert "hemmelig" not in caplog.text


async def test_requests_with_bad_or_stale_signatures_leave_no_body_in_the_log(
    slack: SlackDriver, debug_logs: AtDebug
) -> None:
    """bolt logs the whole body of a request whose signature fails (SEC-06): a server clock five minutes off
    would write every genuine request to the log, anonymous questions included."""
    import time
    from urllib.parse import urlencode

    body = urlencode(
        {
            "team_id": "T0BJORNEBO",
            "user_id": "USIRI",
            "command": "/parts",
            "text": "blindsone anonym 1 Lederen drikker på jobb",
            "channel_id": "C0BJORNE",
        }
    )
    wrong = await slack.send(body, "application/x-www-form-urlencoded", secret="not-the-secret")
    stale = await slack.send(body, "application/x-www-form-urlencoded", ts=int(time.time()) - 600)
    assert (wrong.status, stale.status) == (401, 401)
    logged = "\n".join(lines_of(debug_logs.records))
    assert "drikker" not in logged and "USIRI" not in logged
