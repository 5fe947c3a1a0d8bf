"""The digital modules' evaluations go to the trio: three people, so a kindergarten's own figures never
reach the minimum group size. They are shown only pooled with the other kindergartens of the organisation,
and only when the answers outside any one kindergarten reach the minimum by themselves – the trio is told
so when asked, and ``/parts kurs`` says which of the two it is."""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import select

from bot.course import evaluation, survey
from bot.course.models import CourseRun, EvaluationRound
from bot.course.nudges import render_nudge
from bot.storage.models import Member, Membership, Unit
from tests.console_driver import ConsoleDriver
from tests.course.course_helpers import oslo, team

UNITS = ("Solsikken barnehage", "Blåklokka barnehage", "Hestehoven barnehage", "Løvetann barnehage")
# Module 1's questions, each trio's three answers (useful, and so on) – the same for every question.
SCORES = {
    "Solsikken barnehage": (4, 4, 5),
    "Blåklokka barnehage": (3, 4, 2),
    "Hestehoven barnehage": (5, 3, 4),
    "Løvetann barnehage": (1, 1, 2),
}


async def _enrolled(make_bot, clock, names):  # type: ignore[no-untyped-def]
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot = make_bot()
    consoles = {}
    for number, name in enumerate(names):
        console = ConsoleDriver(bot, unit_name=name)
        console.chat.channel = f"personalet-{number}"  # one channel, one kindergarten
        await console.start()
        await team(console)
        await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
        consoles[name] = console
    return consoles


async def _kurs(consoles, name: str) -> str:  # type: ignore[no-untyped-def]
    """``/parts kurs`` as Kari in ``name``; the bot's answer is printed by whichever console registered
    last as the bot's console messenger, so all of them are read."""
    typed = await consoles[name].as_("Kari", "/parts kurs")
    return typed + "".join(c.take() for c in consoles.values())


def _answers(database, clock, names) -> None:  # type: ignore[no-untyped-def]
    """Module 1's evaluation, closed, answered by each unit's trio (three answers each)."""
    with database.transaction() as s:
        for name in names:
            unit = s.scalars(select(Unit).where(Unit.name == name)).one()
            run = s.scalars(select(CourseRun).where(CourseRun.unit_id == unit.id)).one()
            round_ = evaluation.open_round(s, run, "module-1", clock() - timedelta(days=10))
            round_.closes_at = clock() - timedelta(days=1)
            trio = s.scalars(
                select(Member)
                .join(Membership, Membership.member_id == Member.id)
                .where(Membership.unit_id == unit.id, Member.display_name.in_(("Kari", "Ola", "Siri")))
            ).all()
            questions = evaluation.questions_for("module-1")
            for member, score in zip(trio, SCORES[name], strict=True):
                survey.record(s, round_, member.id, dict.fromkeys(questions, score))


async def test_a_trio_modules_evaluation_is_shown_only_pooled_and_only_when_others_reach_five(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    consoles = await _enrolled(make_bot, clock, UNITS)
    clock.set(oslo(2027, 1, 25, 10).astimezone(UTC))
    # Two kindergartens: six answers, but only three outside either one – hidden, and the trio told why.
    _answers(database, clock, UNITS[:2])
    out = await _kurs(consoles, UNITS[0])
    assert "Modul 1: dere er tre som svarer, så tallene vises bare samlet med andre barnehager" in out
    assert "Modul 1, samlet" not in out
    with database.transaction() as s:
        run = s.scalars(select(CourseRun).order_by(CourseRun.id)).first()
        pooled = evaluation.pooled_module(s, run, 1, clock())
        assert (pooled.means, pooled.units, pooled.answers, pooled.own) == (None, 2, 6, 3)
        # The kindergarten's own figures stay hidden whatever the pool does.
        assert evaluation.module_results(s, run.id, clock()) == {1: None}

    # A third kindergarten: nine answers, six outside any one of them – shown, pooled, for each of them.
    _answers(database, clock, UNITS[2:3])
    out = await _kurs(consoles, UNITS[0])
    assert "Modul 1, samlet for 3 barnehager (9 svar): " in out
    assert "3,8" in out.split("Modul 1, samlet")[1].splitlines()[0]  # (13 + 9 + 12) / 9 = 3,78
    out = await _kurs(consoles, UNITS[1])
    assert "Modul 1, samlet for 3 barnehager (9 svar): " in out

    # A fourth kindergarten closes later. Had it joined the pool, the new figure minus the old one would
    # give away its three answers: it stays out of the shown pool, which does not change, and on its own it
    # is hidden.
    _answers(database, clock, UNITS[3:])
    out = await _kurs(consoles, UNITS[0])
    assert "Modul 1, samlet for 3 barnehager (9 svar): " in out
    assert "3,8" in out.split("Modul 1, samlet")[1].splitlines()[0]
    out = await _kurs(consoles, UNITS[3])
    assert "Modul 1, samlet" not in out
    assert "Modul 1: dere er tre som svarer, så tallene vises bare samlet med andre barnehager" in out
    with database.transaction() as s:
        pools = {r.run_id: r.pool for r in s.scalars(select(EvaluationRound))}
        assert sorted(pools.values(), key=str) == [1, 1, 1, None]


async def test_the_trio_is_told_when_asked_that_its_answers_are_never_shown_alone(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    from bot.course.models import DueNudge

    await _enrolled(make_bot, clock, UNITS[:1])
    with database.transaction() as s:
        unit = s.scalars(select(Unit)).one()
        nudges = s.scalars(select(DueNudge).where(DueNudge.key.like("%module-evaluation%"))).all()
        trio_eval = next(n for n in nudges if n.audience == "trio")
        reply = render_nudge(s, trio_eval, unit, "nb", 1)
    text = "\n".join(getattr(b, "text", "") for b in reply.blocks)
    assert "dere er bare tre som får spørsmålet: svarene deres vises aldri for barnehagen alene" in text
    assert "minst 5" in text
