"""SEC-11: the weekly summary names parties-only material only when every reader is one of the parties,
and a tie in a vote is shown as a tie, as the vote itself shows it. Through the scheduler's real tick and
the console chat."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.course.scheduler import tick
from bot.toolbox.models import Case
from bot.toolbox.models_plan import ActionItem, Plan, Vote, VoteDot, VoteOption
from tests.course.test_course_summary import MONDAY, _utc, course, last_summary, oslo, seed

SECRET_VOTE = "FORTROLIG Lena sykmeldt pga konflikt"


def seed_secret_vote_and_a_tie(database, names: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        secret = s.scalar(select(Case).where(Case.parties_only.is_(True)))
        assert secret is not None
        closed = _utc(oslo(2027, 2, 4, 14))
        hidden = Vote(
            unit_id=secret.unit_id, case_id=secret.id, title=SECRET_VOTE, status="closed", closed_at=closed
        )
        tie = Vote(unit_id=secret.unit_id, title="Sommerfest", status="closed", closed_at=closed)
        s.add_all([hidden, tie])
        s.flush()
        options = [
            VoteOption(vote_id=tie.id, position=p, label=label) for p, label in ((1, "Grilling"), (2, "Tur"))
        ]
        secret_option = VoteOption(vote_id=hidden.id, position=1, label="Flytte Lena til Blåbær")
        s.add_all([*options, secret_option])
        s.flush()
        people = list(names.values())
        for slot, option in enumerate((options[0], options[1], options[0], options[1])):
            s.add(VoteDot(vote_id=tie.id, member_id=people[slot], option_id=option.id, slot=0, option_slot=0))
        s.add(
            VoteDot(vote_id=hidden.id, member_id=people[0], option_id=secret_option.id, slot=0, option_slot=0)
        )
        plan = Plan(unit_id=secret.unit_id, case_id=secret.id, status="agreed")
        s.add(plan)
        s.flush()
        s.add(
            ActionItem(
                plan_id=plan.id,
                number=1,
                text="Samtale med Lena",
                owner_id=names["Kari"],
                due=date(2027, 2, 9),
            )
        )


async def test_a_reader_who_is_no_party_never_sees_parties_only_material(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    bot, console, names = await course(make_bot, clock, database)
    seed(database, names)
    seed_secret_vote_and_a_tie(database, names)
    # Nobody holds a party role any more: the summary falls back to the course admin (Kari), who is no
    # party now, so it must not name the parties-only case, its vote or its actions.
    await console.as_("Ola", "/parts rolle fjern verneombud")
    await console.as_("Siri", "/parts rolle fjern tillitsvalgt")
    await console.as_("Kari", "/parts rolle fjern leder")
    clock.set(_utc(MONDAY))
    console.take()
    await tick(bot, clock())
    summary = last_summary(console.take())
    assert summary.startswith("[direktemelding til Kari] Partsbot:")
    assert "Sykefravær" not in summary and "Lena" not in summary and "FORTROLIG" not in summary
    assert "sak bare for partene" in summary
    assert "En avstemming i en sak bare for partene er avsluttet." in summary
    assert (
        "Avstemmingen «Sommerfest» er avsluttet: delt førsteplass mellom «Grilling», «Tur» med 2 prikker "
        "hver." in summary
    )


async def test_readers_who_are_all_parties_see_it_named(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    bot, console, names = await course(make_bot, clock, database)
    seed(database, names)
    seed_secret_vote_and_a_tie(database, names)
    clock.set(_utc(MONDAY))
    console.take()
    await tick(bot, clock())
    summary = last_summary(console.take())
    assert summary.startswith("[direktemelding til Kari] Partsbot:")  # the leder alone
    assert f"Avstemmingen «{SECRET_VOTE}» er avsluttet: «Flytte Lena til Blåbær» vant med 1 prikk." in summary
    assert "Samtale med Lena" in summary
