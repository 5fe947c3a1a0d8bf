"""Lookups by a global id answer only within the caller's organisation (SEC-13, first half).

Hanne has only ever written to the bot directly, in another workspace, so she has no unit there. A roles
round or a HØRA meeting of Solsikken, named by its number, must answer her exactly like a number that does
not exist – no existence oracle across tenants – and change nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select

from bot.chat.model import Action, Actor, Command, Effect, Place, Private
from bot.core import Partsbot
from bot.storage.models import RolesAnswer
from bot.toolbox.models_plan import Meeting
from tests.console_driver import ConsoleDriver
from tests.toolbox.test_hora import _plan_meeting

HANNE = Actor("u-hanne", "Hanne")
HANNES_DM = Place("console", "other-workspace", "dm-u-hanne", None, is_direct=True)


def said(effects: list[Effect]) -> list[str]:
    return [e.reply.fallback for e in effects if isinstance(e, Private)]


async def test_another_workspace_cannot_tell_solsikkens_rounds_and_meetings_from_none(
    make_bot, database
) -> None:  # type: ignore[no-untyped-def]
    bot: Partsbot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await _plan_meeting(console)  # meeting 1, by Kari (leder)
    await console.type("/parts roller")  # roles round 1
    with database.transaction() as s:
        assert s.scalar(select(func.count(Meeting.id))) == 1

    async def hanne(event_of: str, number: str) -> list[str]:
        if event_of == "høra":
            event = Command(HANNE, HANNES_DM, "høra", f"resultat {number} ja")
        else:
            event = Action(HANNE, HANNES_DM, "roles.answer", number)
        return said(await bot.handle(event))

    for kind in ("høra", "roles"):
        existing, missing = await hanne(kind, "1"), await hanne(kind, "99")
        assert existing == [answer.replace("99", "1") for answer in missing], kind
        assert len(existing) == 1
    assert await hanne("høra", "1") == ["Jeg finner ikke møte 1 her."]
    with database.transaction() as s:
        meeting = s.scalars(select(Meeting)).one()
        assert meeting.result is None
        assert s.scalar(select(func.count(RolesAnswer.id))) == 0
