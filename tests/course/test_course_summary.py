"""The weekly summary, checked against numbers computed by hand from a fixture of cases, questions, ideas,
votes, actions, check-ins and the course plan; its recipients; and the action reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from bot.course import survey
from bot.course.checkin import INDICATORS
from bot.course.models import CheckinRound, CourseSettings
from bot.course.scheduler import tick
from bot.storage.models import Member, Unit
from bot.toolbox.models import Case, Idea, Question
from bot.toolbox.models_plan import ActionItem, Plan, Vote, VoteDot, VoteOption
from tests.console_driver import ConsoleDriver
from tests.course.course_helpers import oslo, team

MONDAY = oslo(2027, 2, 8, 8, 0)  # the summary of week 6; modules 1 (11 Jan) and 2 (1 Feb) are done

# Week 5's check-in, six answers (one list per person): the means by hand are
# arbeidsflyt 21/6 = 3.5, motivasjon 24/6 = 4.0, engasjement 19/6 = 3.17 → 3.2, involvering 15/6 = 2.5,
# tillit 26/6 = 4.33 → 4.3, trygghet 27/6 = 4.5.
WEEK5 = [
    (3, 4, 3, 2, 5, 4),
    (4, 4, 3, 3, 4, 5),
    (2, 3, 3, 2, 4, 4),
    (5, 5, 4, 3, 5, 5),
    (3, 4, 4, 2, 4, 5),
    (4, 4, 2, 3, 4, 4),
]
WEEK4 = [(1, 1, 1, 1, 1, 1)] * 4  # four answers: hidden


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def seed(database, names: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as s:
        unit = s.scalar(select(Unit))
        for week, opened, closes, answers in (
            ("2027-W04", oslo(2027, 1, 28, 13), oslo(2027, 2, 1, 8), WEEK4),
            ("2027-W05", oslo(2027, 2, 4, 13), oslo(2027, 2, 8, 8), WEEK5),
        ):
            round_ = CheckinRound(
                unit_id=unit.id,
                week=week,
                opened_at=_utc(opened),
                closes_at=_utc(closes),
                remind_at=_utc(closes),
                member_count=6,
                answer_count=0,
                comments=[],
            )
            s.add(round_)
            s.flush()
            survey.create_tallies(s, round_, INDICATORS)
            for member_id, scores in zip(names.values(), answers, strict=False):
                survey.record(s, round_, member_id, dict(zip(INDICATORS, scores, strict=True)), "Fin uke")

        def case(title: str, step: str, closed: bool = False) -> Case:
            c = Case(
                unit_id=unit.id,
                title=title,
                statement=title,
                step=step,
                closed_at=_utc(oslo(2027, 2, 1, 12)) if closed else None,
            )
            s.add(c)
            s.flush()
            return c

        c1, _ = case("Beskjeder", "define"), case("Garderoben", "define")
        c3, c4 = case("Pauser", "ideas"), case("Vikarer", "plan")
        case("Gammel sak", "agreed", closed=True)
        secret = case("Sykefravær hos en kollega", "define")
        secret.parties_only = True  # named only to readers who are all parties (SEC-11)
        for day, released in ((3, True), (5, True), (7, True), (20, True), (6, False)):
            when = _utc(oslo(2027, 2 if day < 10 else 1, day, 12))
            s.add(
                Question(
                    case_id=c1.id,
                    text=f"q{day}",
                    released=released,
                    released_at=when if released else None,
                    created_at=when if released else None,
                )
            )
        for n, day in enumerate((2, 3, 4, 6), start=1):
            s.add(Idea(case_id=c3.id, number=n, text=f"idé {n}", created_at=_utc(oslo(2027, 2, day, 10))))
        s.add(Idea(case_id=c3.id, number=9, text="gammel", created_at=_utc(oslo(2027, 1, 25, 10))))
        vote = Vote(
            unit_id=unit.id,
            case_id=c4.id,
            title="Hva prøver vi først?",
            status="closed",
            closed_at=_utc(oslo(2027, 2, 5, 14)),
        )
        old = Vote(unit_id=unit.id, title="Julebord", status="closed", closed_at=_utc(oslo(2027, 1, 20, 14)))
        s.add_all([vote, old])
        s.flush()
        options = [
            VoteOption(vote_id=vote.id, position=p, label=label)
            for p, label in enumerate(("Fast beskjedtavle", "Morgenmøte 5 min", "Ny app"), start=1)
        ]
        s.add_all(options)
        s.flush()
        # Dots: tavle 3, morgenmøte 5, app 1 → "Morgenmøte 5 min" wins with 5.
        dots = [0] * 3 + [1] * 5 + [2]
        for i, option in enumerate(dots):
            member = list(names.values())[i % 6]
            s.add(
                VoteDot(
                    vote_id=vote.id, member_id=member, option_id=options[option].id, slot=i, option_slot=i
                )
            )
        plan = Plan(unit_id=unit.id, case_id=c4.id, status="agreed")
        s.add(plan)
        s.flush()
        for number, (text, owner, due, done) in enumerate(
            (
                ("Lage beskjedtavle", "Ola", date(2027, 2, 3), False),  # overdue
                ("Prøve 5-minutters morgenmøte", "Per", date(2027, 2, 11), False),  # due this week
                ("Bestille tavle", "Siri", date(2027, 2, 1), True),  # done: not listed
                ("Evaluere", "Kari", date(2027, 2, 26), False),  # later than a week: not listed
            ),
            start=1,
        ):
            s.add(
                ActionItem(
                    plan_id=plan.id,
                    number=number,
                    text=text,
                    owner_id=names[owner],
                    due=due,
                    done_at=_utc(oslo(2027, 2, 1, 12)) if done else None,
                )
            )


async def course(make_bot, clock, database):  # type: ignore[no-untyped-def]
    clock.set(_utc(oslo(2027, 1, 4, 10)))
    bot = make_bot(extra={"PARTSBOT_CHART_DIR": str(Path.cwd() / "charts")})
    console = ConsoleDriver(bot)
    await console.start()
    await team(console)
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    with database.transaction() as s:
        names = {m.display_name: m.id for m in s.scalars(select(Member).order_by(Member.id))}
    return bot, console, names


def last_summary(transcript: str) -> str:
    start = transcript.rindex("== Ukeoppsummering – Solsikken barnehage ==")
    return transcript[transcript.rfind("\n[", 0, start) + 1 :]


async def test_weekly_summary_matches_numbers_computed_by_hand(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    bot, console, names = await course(make_bot, clock, database)
    seed(database, names)
    clock.set(_utc(MONDAY))
    console.take()
    report = await tick(bot, clock())
    assert "summary:1:2027-02-08" in report.sent
    out = console.take()
    assert out.count("== Ukeoppsummering – Solsikken barnehage ==") == 1  # the leader only, privately
    summary = last_summary(out)
    assert summary.startswith("[direktemelding til Kari] Partsbot:")
    expected = [
        "mandag 1. februar kl. 08.00 – mandag 8. februar kl. 08.00",
        "*Saker etter steg*",
        # The leder alone reads it, so the parties-only case is named.
        "• Definere problemet: 3 (Beskjeder, Garderoben, Sykefravær hos en kollega)",
        "• Idéjakt: 1 (Pauser)",
        "• Plan og tiltak: 1 (Vikarer)",
        "3 nye spørsmål i blindsonen og 4 nye idéer.",
        "• Avstemmingen «Hva prøver vi først?» er avsluttet: «Morgenmøte 5 min» vant med 5 prikker.",
        "• ⚠ Fristen er passert: Lage beskjedtavle – Ola, frist onsdag 3. februar",
        "• Prøve 5-minutters morgenmøte – Per, frist torsdag 11. februar",
        "Uke 5: 6 av 6 svarte.",
        "• Arbeidsflyt: 3,5",
        "• Motivasjon: 4,0",
        "• Engasjement: 3,2",
        "• Involvering: 2,5",
        "• Tillit: 4,3",
        "• Trygghet: 4,5",
        "Kommentarer vises når minst 10 har svart.",
        "• Sjekk-inn uke 4: 4 av 6",
        "• Sjekk-inn uke 5: 6 av 6",
        "2 av 6 moduler gjennomført.",
        "Neste: Modul 3: digital samling, mandag 22. februar kl. 09.00.",
    ]
    for line in expected:
        assert line in summary, line
    for absent in ("Gammel sak", "Julebord", "Bestille tavle", "Evaluere", "Fin uke"):
        assert absent not in summary, absent
    # The chart: a PNG with both weeks (week 4 hidden as a gap), its path shown in the console.
    chart = (
        summary[summary.index("[Utviklingen per indikator de siste ukene: ") :]
        .split(": ", 1)[1]
        .split("]")[0]
    )
    png = Path(chart)
    assert png.parent.name == "charts"
    with png.open("rb") as fh:  # noqa: ASYNC230 - a test reading one small local file
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"

    # The same summary on demand, for the trio only.
    out = await console.as_("Ola", "/parts oppsummering")
    assert "(bare synlig for Ola) Partsbot:\n  == Ukeoppsummering – Solsikken barnehage ==" in out
    assert "• Arbeidsflyt: 3,5" in out
    out = await console.as_("Per", "/parts oppsummering")
    assert "Oppsummeringen er for leder, verneombud og tillitsvalgt." in out
    assert "Ukeoppsummering" not in out
    # One summary a week, whatever happens: another tick the same morning sends nothing.
    assert "summary:1:2027-02-08" not in (await tick(bot, clock())).sent


async def test_summary_goes_to_the_trio_when_the_unit_chooses(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    bot, console, _ = await course(make_bot, clock, database)
    with database.transaction() as s:
        s.add(CourseSettings(unit_id=s.scalar(select(Unit.id)), summary_to_trio=True))
    clock.set(_utc(oslo(2027, 1, 11, 8)))
    console.take()
    await tick(bot, clock())
    out = console.take()
    for name in ("Kari", "Ola", "Siri"):
        assert f"[direktemelding til {name}] Partsbot:\n  == Ukeoppsummering" in out
    assert out.count("== Ukeoppsummering") == 3


async def test_a_unit_without_a_leader_gets_it_to_the_trio_and_the_admin_is_told(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    clock.set(_utc(oslo(2027, 1, 4, 10)))
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await team(console, (("Ola", "verneombud"), ("Siri", "tillitsvalgt"), ("Per", "ansatt")))
    # Kari enrolled the unit as leder and then handed the role over to nobody yet: she stepped down.
    await console.as_("Kari leder", "/parts kurs start 2027-01-11 09:00", "/parts rolle fjern leder")
    clock.set(_utc(oslo(2027, 1, 11, 8)))
    console.take()
    await tick(bot, clock())
    out = console.take()
    assert out.count("== Ukeoppsummering") == 2
    assert "[direktemelding til Ola] Partsbot:\n  == Ukeoppsummering" in out
    assert "[direktemelding til Siri] Partsbot:\n  == Ukeoppsummering" in out
    told = (
        "Solsikken barnehage har ingen leder registrert i Partsbot, så ukeoppsummeringen gikk til: Ola, Siri."
    )
    assert f"[direktemelding til Kari] Partsbot:\n  {told}" in out


async def test_action_owner_is_reminded_privately_on_the_due_date(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    bot, console, names = await course(make_bot, clock, database)
    seed(database, names)
    with database.transaction() as s:
        plan = s.scalar(select(Plan))
        # A deadline in the summer closure is reminded the first working day after it.
        s.add(
            ActionItem(
                plan_id=plan.id, number=9, text="Male gjerdet", owner_id=names["Jonas"], due=date(2027, 7, 21)
            )
        )
    clock.set(_utc(oslo(2027, 2, 11, 9)))
    console.take()
    report = await tick(bot, clock())
    assert [k for k in report.sent if k.startswith("action:")] == [f"action:{2}:2027-02-11"]
    out = console.take()
    reminder = "Påminnelse: «Prøve 5-minutters morgenmøte» har frist torsdag 11. februar."
    assert f"[direktemelding til Per] Partsbot:\n  == Tiltak med frist i dag ==\n  {reminder}" in out
    assert not [k for k in (await tick(bot, clock())).sent if k.startswith("action:")]
    # Summer closure: nothing on 21 July, the reminder on Monday 2 August at 09:00.
    clock.set(_utc(oslo(2027, 7, 21, 10)))
    assert not [k for k in (await tick(bot, clock())).sent if k.startswith("action:")]
    clock.set(_utc(oslo(2027, 8, 2, 9)))
    assert [k for k in (await tick(bot, clock())).sent if k.startswith("action:")] == ["action:5:2027-07-21"]


def test_delivered_charts_are_deleted_and_waiting_ones_kept(database, tmp_path, clock) -> None:  # type: ignore[no-untyped-def]
    import os
    import time

    from bot.course.retention import delete_delivered_charts
    from bot.storage.models import OutboxItem

    folder = tmp_path / "charts"
    folder.mkdir()
    (folder / "delivered.png").write_bytes(b"png")
    (folder / "waiting.png").write_bytes(b"png")
    (folder / "just-drawn.png").write_bytes(b"png")
    for name in ("delivered.png", "waiting.png"):
        os.utime(folder / name, (time.time() - 3600, time.time() - 3600))
    with database.transaction() as s:
        s.add(
            OutboxItem(
                platform="slack", lane="slack:T", effect='{"path": "/x/waiting.png"}', next_attempt_at=clock()
            )
        )
    with database.transaction() as s:
        assert delete_delivered_charts(s, clock(), folder) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["just-drawn.png", "waiting.png"]


def test_the_summary_shows_a_unanimous_indicator_as_a_band() -> None:
    from types import SimpleNamespace

    from bot.course.checkin import WeekResult
    from bot.course.summary import _checkin

    week = WeekResult("2027-W01", 5, 8, {"arbeidsflyt": 3.4}, [], bands={"trygghet": (4, 5)})
    lines, _ = _checkin("nb", SimpleNamespace(checkins=[week]))  # type: ignore[arg-type]
    text = "\n".join(lines)
    assert "• Arbeidsflyt: 3,4" in text
    assert "• Trygghet: 4–5" in text


async def test_the_chart_is_drawn_after_the_ledger_transaction(  # type: ignore[no-untyped-def]
    make_bot, clock, database, monkeypatch
) -> None:
    """Code review B13: matplotlib must not draw while the send ledger's transaction (on SQLite: the write
    lock) is open. When the chart is drawn, the ledger row is committed and visible to anyone."""
    from sqlalchemy import select

    from bot.course import summary as summary_module
    from bot.course.models import SendLedger

    seen: list[list[str]] = []
    draw = summary_module.render_trend_chart

    def watching(*args, **kwargs):  # type: ignore[no-untyped-def]
        with database.transaction() as session:
            seen.append(list(session.scalars(select(SendLedger.key).where(SendLedger.key.like("summary:%")))))
        return draw(*args, **kwargs)

    monkeypatch.setattr(summary_module, "render_trend_chart", watching)
    bot, _console, names = await course(make_bot, clock, database)
    seed(database, names)
    clock.set(_utc(MONDAY))
    report = await tick(bot, clock())
    assert "summary:1:2027-02-08" in report.sent
    assert seen == [["summary:1:2027-02-08"]]
