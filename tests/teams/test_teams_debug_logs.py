"""A whole case at DEBUG: the log holds no free text and no link from a person to what they wrote
(issue 10; see tests/debug_logs.py)."""

from __future__ import annotations

from tests.debug_logs import AtDebug, assert_clean, debug_logs, lines_of
from tests.teams import test_teams_case as teams_case
from tests.teams.fakes import TeamsDriver

__all__ = ["debug_logs"]  # the fixture, used by name


async def test_a_whole_teams_case_at_debug_logs_no_free_text(teams: TeamsDriver, debug_logs: AtDebug) -> None:
    await teams_case.test_a_whole_case_from_problem_to_an_agreed_plan(teams)
    lines = lines_of(debug_logs.records)
    assert lines
    free_text = [
        teams_case.SEED,
        "Hvem eier dagsplanen?",
        "Hvorfor skriver vi ikke planen kvelden før?",
        "Hva ville skjedd om ingen planla i det hele tatt?",
        "En tavle i garderoben med dagens oppgaver.",
        "En skriftlig dagsplan hver morgen.",
    ]
    assert_clean(lines, free_text, ["a:personal-per", "a:personal-siri", "a:personal-kari"])
