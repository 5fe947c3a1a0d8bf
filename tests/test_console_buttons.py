"""Console buttons act where their message is, wherever the person pressing them is typing.

A number picks a button of any message on the screen, wherever the typist is now. Before, a button from a
direct message pressed while the person stood in another channel acted in that channel – and the router
made the presser a member of that channel's kindergarten.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.models import Member, Membership, RoleAssignment, Unit
from tests.console_driver import ConsoleDriver, option_number


async def _ola_claims_verneombud(console: ConsoleDriver) -> str:
    """Kari leads Solsikken (#personalet); Ola claims verneombud, and Kari is asked in a direct message."""
    await console.start()
    await console.as_("Kari", "/parts rolle leder")
    out = await console.as_("Ola", "/parts rolle verneombud")
    assert "[direktemelding til Kari] Partsbot:" in out
    return out


def _roles(database, channel: str) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        rows = s.execute(
            select(Member.display_name, RoleAssignment.role)
            .join(RoleAssignment, RoleAssignment.member_id == Member.id)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(Unit.channel_id == channel)
        ).all()
    return {(name, role) for name, role in rows}


def _members_of(database, channel: str) -> set[str]:  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        return set(
            s.scalars(
                select(Member.display_name)
                .join(Membership, Membership.member_id == Member.id)
                .join(Unit, Unit.id == Membership.unit_id)
                .where(Unit.channel_id == channel)
            )
        )


async def test_a_direct_message_button_pressed_from_another_channel_acts_in_the_direct_message(
    make_bot, database
) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    asked = await _ola_claims_verneombud(console)
    confirm = option_number(asked, "Bekreft")

    # Kari walks over to another kindergarten's channel and presses the button from her direct message.
    await console.as_("Kari", "/kanal blåbær")
    out = await console.type(confirm)

    assert "Ola er nå verneombud" in out
    assert _roles(database, "personalet") == {("Kari", "leder"), ("Ola", "verneombud")}
    # Nothing happened in #blåbær: no unit set up, nobody made a member of it.
    assert _members_of(database, "blåbær") == set()
    assert _roles(database, "blåbær") == set()


async def test_a_channel_button_pressed_from_a_direct_message_acts_in_its_channel(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Kari", "/parts rolle leder")
    out = await console.type("/parts roller")
    answer = option_number(out, "Svar")

    # Siri (ansatt) is in her direct message with the bot when she presses "Svar" on the channel's round.
    await console.type("/som Siri ansatt", "/dm")
    out = await console.type(answer)

    assert "== Svar om rollen din ==" in out and "Du svarer som ansatt." in out
