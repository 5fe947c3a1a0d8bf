"""Follow-up until the goal is reached: the owner is reminded two working days before and on the day; the
case's steerers are asked about an overdue action; when the last action is done the case asks "how are
we now?" and keeps the answers, which the HMS record shows."""

from __future__ import annotations

from datetime import UTC, date

from sqlalchemy import select

from bot.course.scheduler import tick
from bot.record import hms
from bot.storage.models import Member, Unit
from bot.toolbox.models import Case, CaseVersion
from bot.toolbox.models_plan import ActionItem, Plan
from tests.console_driver import ConsoleDriver, message_number, option_number
from tests.course.course_helpers import oslo, team

OVERDUE = "== Et tiltak har passert fristen =="


async def agreed_case(make_bot, clock, database):  # type: ignore[no-untyped-def]
    """Per's case with an agreed plan: action 1 (Aisha) due Wednesday 13 January, action 2 (Jonas) due
    Friday 8 January 2027."""
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await team(console)
    out = await console.as_("Per", "/parts problem Garderoben om morgenen er kaotisk")
    head = message_number(out, "== Sak #1")
    with database.transaction() as s:
        names = {m.display_name: m.id for m in s.scalars(select(Member))}
        case = s.get(Case, 1)
        assert case is not None
        case.step = "agreed"
        plan = Plan(
            unit_id=case.unit_id,
            case_id=case.id,
            goal="Rolige morgener",
            outcome="Alle vet hvem som gjør hva før barna kommer",
            status="agreed",
            agreed_at=clock(),
        )
        s.add(plan)
        s.flush()
        s.add(
            ActionItem(
                plan_id=plan.id, number=1, text="Lage tavle", owner_id=names["Aisha"], due=date(2027, 1, 13)
            )
        )
        s.add(
            ActionItem(
                plan_id=plan.id, number=2, text="Morgenmøte", owner_id=names["Jonas"], due=date(2027, 1, 8)
            )
        )
    console.take()
    return bot, console, head


def sent_actions(report) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(k for k in report.sent if k.startswith("action:"))


async def test_reminders_before_and_on_the_day_and_the_steerers_asked_when_overdue(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    bot, console, _ = await agreed_case(make_bot, clock, database)
    # Wednesday 6 January: two working days before Friday 8 January.
    clock.set(oslo(2027, 1, 6, 9, 30).astimezone(UTC))
    assert sent_actions(await tick(bot, clock())) == ["action:2:2027-01-08:before"]
    out = console.take()
    before = "Om to arbeidsdager: «Morgenmøte» har frist fredag 8. januar."
    assert f"[direktemelding til Jonas] Partsbot:\n  == Tiltak med frist snart ==\n  {before}" in out
    clock.set(oslo(2027, 1, 8, 9, 30).astimezone(UTC))
    assert sent_actions(await tick(bot, clock())) == ["action:2:2027-01-08"]
    # Monday 11 January: action 2 is overdue (the steerers are asked), action 1 is two working days away.
    clock.set(oslo(2027, 1, 11, 9, 30).astimezone(UTC))
    console.take()
    assert sent_actions(await tick(bot, clock())) == [
        "action:1:2027-01-13:before",
        "action:2:2027-01-08:overdue",
    ]
    out = console.take()
    for steerer in ("Per", "Kari", "Ola", "Siri"):
        assert f"[direktemelding til {steerer}] Partsbot:\n  {OVERDUE}" in out
    assert f"[direktemelding til Jonas] Partsbot:\n  {OVERDUE}" not in out  # not the owner himself
    assert f"[direktemelding til Aisha] Partsbot:\n  {OVERDUE}" not in out  # nor staff who do not steer
    assert (
        "«Morgenmøte» i sak #1 skulle vært gjort fredag 8. januar, men Jonas har ikke merket det som gjort. "
        "Hvem tar en prat med Jonas?"
    ) in out
    assert sent_actions(await tick(bot, clock())) == []  # each once


async def test_the_last_action_done_asks_how_we_are_and_the_answers_are_kept(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    _, console, head = await agreed_case(make_bot, clock, database)
    out = await console.as_("Aisha", "/parts plan #1 ferdig 1")
    assert "Alle tiltakene i sak #1 er gjort" not in out
    out = await console.as_("Jonas", "/parts plan #1 ferdig 2")
    assert "Alle tiltakene i sak #1 er gjort" in out
    assert (
        "Målet var: «Rolige morgener». Da planen ble laget, skrev dere at slik skulle vi ha det når målet "
        "var nådd: «Alle vet hvem som gjør hva før barna kommer». Hvordan har vi det nå?"
    ) in out
    form = await console.as_("Per", option_number(out, "Svar"))
    assert "== Hvordan har vi det nå? ==" in form
    out = await console.type("Mye roligere, men vikarene vet det ikke alltid.")
    assert "*Per:* Mye roligere, men vikarene vet det ikke alltid." in out
    assert "Takk! Svaret ditt står i tråden til sak #1." in out
    assert f"(tråd #{head})" in out
    with database.transaction() as s:
        kinds = [v.kind for v in s.scalars(select(CaseVersion).where(CaseVersion.case_id == 1))]
        assert kinds.count("reached") == 1
        unit = s.get(Unit, 1)
        assert unit is not None
        record = hms.collect(s, unit, clock(), "nb", for_trio=False)
    assert record.cases[0].reached == ("Per: Mye roligere, men vikarene vet det ikke alltid.",)


# Trygghet per week (six answers unless fewer are given): before the plan was agreed (week 1 of 2027)
# and after. Week 51 has three answers and week 3 four (hidden, under the minimum group size); in week 52
# everyone said 3 (hidden: the mean would be each person's answer).
TRYGGHET = {
    "2026-W50": [2, 3, 3, 3, 2, 4],  # 2,8
    "2026-W51": [5, 5, 4],
    "2026-W52": [3, 3, 3, 3, 3, 3],
    "2026-W53": [3, 3, 4, 3, 3, 3],  # 3,2
    "2027-W01": [3, 4, 4, 3, 4, 3],  # 3,5
    "2027-W02": [4, 4, 4, 4, 5, 3],  # 4,0
    "2027-W03": [5, 5, 5, 4],
}
TREND = (
    "Tiltak 1 skal bedre trygghet: før 3,0 (2 uker), etter 3,8 (2 uker). Uke for uke: uke 50: 2,8 · "
    "uke 51: – · uke 52: – · uke 53: 3,2 · uke 1: 3,5 ▸ · uke 2: 4,0 · uke 3: –."
)


def seed_checkins(database) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from bot.course import survey
    from bot.course.checkin import INDICATORS
    from bot.course.models import CheckinRound

    with database.transaction() as s:
        unit = s.scalars(select(Unit)).one()
        people = [m.id for m in s.scalars(select(Member).order_by(Member.id))]
        for week, scores in TRYGGHET.items():
            year, number = int(week[:4]), int(week[6:])
            monday = date.fromisocalendar(year, number, 1)
            opened = oslo(monday.year, monday.month, monday.day, 13) + timedelta(days=3)
            closes = opened + timedelta(days=4)
            round_ = CheckinRound(
                unit_id=unit.id,
                week=week,
                opened_at=opened.astimezone(UTC),
                closes_at=closes.astimezone(UTC),
                remind_at=closes.astimezone(UTC),
                member_count=6,
                answer_count=0,
                comments=[],
            )
            s.add(round_)
            s.flush()
            survey.create_tallies(s, round_, INDICATORS)
            for member_id, score in zip(people, scores, strict=False):
                answer = {**dict.fromkeys(INDICATORS, 3), "trygghet": score}
                survey.record(s, round_, member_id, answer)


async def test_an_action_shows_its_indicator_before_and_after_and_the_case_closes_with_the_answers(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    _, console, head = await agreed_case(make_bot, clock, database)
    seed_checkins(database)
    clock.set(oslo(2027, 1, 26, 10).astimezone(UTC))
    # Staff who do not steer the case cannot link an indicator; a steerer can, and the head shows the trend.
    out = await console.as_("Aisha", "/parts plan #1 indikator 1 trygghet")
    assert "Planen endres av den som startet saken" in out
    out = await console.as_("Ola", "/parts plan #1 indikator 1 tull")
    assert "`/parts plan indikator <tiltaksnr> <indikator>`" in out
    out = await console.as_("Ola", "/parts plan #1 indikator 1 trygghet")
    assert "Tiltak 1 skal bedre trygghet. Saken viser utviklingen før og etter tiltaket." in out
    assert f"#{head} (oppdatert) Partsbot:" in out and TREND in out
    # The hidden weeks stay hidden: no figure from week 51 (three answers) or week 52 (all alike).
    assert "uke 51: –" in out and "uke 52: –" in out

    out = await console.as_("Aisha", "/parts plan #1 ferdig 1")
    asked = await console.as_("Jonas", "/parts plan #1 ferdig 2")
    assert "Alle tiltakene i sak #1 er gjort – hvordan har vi det når målet er nådd?" in asked
    assert TREND in asked  # the follow-up question carries the trend too
    # Closing needs an answer first, and only the case's steerers close it.
    out = await console.as_("Ola", "/parts plan #1 avslutt")
    assert "Ingen har svart på hvordan vi har det ennå." in out
    form = await console.as_("Per", option_number(asked, "Svar"))
    assert "== Hvordan har vi det nå? ==" in form
    await console.type("Tryggere morgener, vi vet hvem som tar imot.")
    out = await console.as_("Aisha", "/parts plan #1 avslutt")
    assert "Bare den som startet saken, eller leder, verneombud eller tillitsvalgt, kan styre saken" in out
    with database.transaction() as s:
        assert s.scalar(select(Case.closed_at)) is None
    out = await console.as_("Ola", "/parts plan #1 avslutt")
    assert "Sak #1 er avsluttet av Ola. Målet var: «Rolige morgener»." in out
    assert "• Per: Tryggere morgener, vi vet hvem som tar imot." in out
    assert TREND in out
    with database.transaction() as s:
        assert s.scalar(select(Case.closed_at)) == clock()
        unit = s.scalars(select(Unit)).one()
        record = hms.collect(s, unit, clock(), "nb", for_trio=False)
    [action] = [a for a in record.cases[0].actions if a.number == 1]
    assert action.indicator.startswith("Trygghet: før 3,0 (2 uker), etter 3,8 (2 uker).")
    assert record.cases[0].closed
