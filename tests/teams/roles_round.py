"""A roles round in the Teams channel, for the card tests: started by Kari (leder), answers counted."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.storage.models import RolesAnswer
from tests.teams.fakes import CHANNEL, KARI, Call, TeamsDriver


def answers(teams: TeamsDriver) -> int:
    with teams.bot.db.transaction() as session:
        return int(session.scalar(select(func.count(RolesAnswer.id))) or 0)


async def open_round(teams: TeamsDriver) -> Call:
    """Kari (leder) starts a roles round; returns the head message (its "Svar" button) as the fake got it."""
    await teams.say(KARI, "rolle leder")
    mark = teams.mark()
    await teams.say(KARI, "roller")
    return next(c for c in teams.since(mark) if c.method == "POST" and c.conversation == CHANNEL)
