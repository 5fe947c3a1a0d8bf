"""The check-in "En bra dag på jobb": anonymous storage, minimum group sizes, one answer, one reminder."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import inspect, select

from bot.course import survey
from bot.course.models import CheckinRespondent, CheckinRound, CheckinTally
from bot.storage.models import Member
from tests.console_driver import ConsoleDriver
from tests.course.course_helpers import local, oslo, team, walk

EIGHT = (
    *(("Kari", "leder"), ("Ola", "verneombud"), ("Siri", "tillitsvalgt")),
    *((n, "ansatt") for n in ("Per", "Aisha", "Jonas", "Mari", "Lena")),
)


async def setup(make_bot, clock, people=EIGHT):  # type: ignore[no-untyped-def]
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot = make_bot()
    console = ConsoleDriver(bot)
    await console.start()
    await team(console, people)
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    return bot, console


async def answer(console: ConsoleDriver, name: str, scores: tuple[int, ...], comment: str = "") -> str:
    opened = await console.as_(name, "/parts sjekkinn")
    assert "== En bra dag på jobb ==" in opened, opened
    return await console.type(*(str(s) for s in scores), comment)


def test_answers_are_stored_without_any_link_to_the_person(database) -> None:  # type: ignore[no-untyped-def]
    inspector = inspect(database.engine)
    for table in ("checkin_tally", "checkin_round", "evaluation_tally", "evaluation_round"):
        columns = {c["name"] for c in inspector.get_columns(table)}
        assert not {c for c in columns if c in ("member_id", "user_id", "author_id", "created_at")}, table
        referred = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
        assert "member" not in referred, table
    # Tallies are counts per (indicator, score), with no time and no order of answers.
    assert {c["name"] for c in inspector.get_columns("checkin_tally")} == {
        "round_id",
        "question",
        "score",
        "count",
    }
    # The only table naming a person says no more than that they answered a round.
    assert {c["name"] for c in inspector.get_columns("checkin_respondent")} == {"round_id", "member_id"}


async def test_four_answers_hide_the_aggregate_five_show_it(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    bot, console = await setup(make_bot, clock)
    # Week 1: four answers.
    clock.set(oslo(2027, 1, 7, 14).astimezone(UTC))
    for name, scores in zip(
        ("Per", "Aisha", "Jonas", "Mari"),
        ((3, 4, 4, 2, 5, 5), (2, 4, 3, 3, 4, 5), (4, 5, 4, 2, 4, 4), (3, 3, 3, 3, 5, 4)),
        strict=True,
    ):
        out = await answer(console, name, scores)
        assert "Takk! Svaret ditt er lagret uten navn." in out
    # Week 2: five answers.
    await walk(bot, clock, oslo(2027, 1, 14, 14))
    for name, scores in zip(
        ("Per", "Aisha", "Jonas", "Mari", "Lena"),
        ((3, 4, 4, 2, 5, 5), (2, 4, 3, 3, 4, 5), (4, 5, 4, 2, 4, 4), (3, 3, 3, 3, 5, 4), (5, 4, 2, 1, 4, 5)),
        strict=True,
    ):
        await answer(console, name, scores, "Travel uke")
    await walk(bot, clock, oslo(2027, 1, 18, 9))  # both rounds closed by the summaries
    out = await console.as_("Ola", "/parts sjekkinn resultat")
    week1 = out[out.index("*Uke 1*") : out.index("*Uke 2*")]
    week2 = out[out.index("*Uke 2*") :]
    assert "4 av 8 svarte" in week1
    assert "Færre enn 5 svar – resultatet vises ikke." in week1
    assert "Arbeidsflyt" not in week1
    # By hand: arbeidsflyt 17/5 = 3.4, motivasjon 20/5 = 4.0, engasjement 16/5 = 3.2, involvering 11/5 = 2.2,
    # tillit 22/5 = 4.4, trygghet 23/5 = 4.6.
    assert "5 av 8 svarte" in week2
    for line in (
        "Arbeidsflyt: 3,4",
        "Motivasjon: 4,0",
        "Engasjement: 3,2",
        "Involvering: 2,2",
        "Tillit: 4,4",
        "Trygghet: 4,6",
    ):
        assert line in week2
    # Five comments are not shown (comments need ten answers).
    assert "Travel uke" not in console.transcript.split("/parts sjekkinn resultat")[-1]


async def test_a_second_answer_is_refused_kindly_and_changes_nothing(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    _, console = await setup(make_bot, clock)
    clock.set(oslo(2027, 1, 7, 14).astimezone(UTC))
    await answer(console, "Per", (3, 3, 3, 3, 3, 3))
    out = await console.as_("Per", "/parts sjekkinn")
    assert "Du har allerede svart denne uka – takk!" in out
    assert "Et anonymt svar kan ikke finnes igjen, så det kan ikke endres." in out
    with database.transaction() as s:
        round_ = s.scalar(select(CheckinRound))
        assert round_.answer_count == 1
        per = s.scalar(select(Member).where(Member.display_name == "Per"))
        assert s.scalars(select(CheckinRespondent.member_id)).all() == [per.id]
        assert sum(t.count for t in s.scalars(select(CheckinTally))) == 6


async def test_reminders_go_once_privately_to_those_who_have_not_answered(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    people = (("Kari", "leder"), ("Ola", "verneombud"), ("Per", "ansatt"), ("Aisha", "ansatt"))
    bot, console = await setup(make_bot, clock, people)
    sent = await walk(bot, clock, oslo(2027, 1, 7, 13))
    assert [k for _, k in sent][-1] == "checkin:1:2027-W01"
    assert console.take().count("== En bra dag på jobb ==") == 4  # everyone is asked, privately
    await answer(console, "Per", (4, 4, 4, 4, 4, 4))
    await answer(console, "Kari", (4, 4, 4, 4, 4, 4))
    console.take()
    sent = await walk(bot, clock, oslo(2027, 1, 10, 12))
    assert [k for _, k in sent if k.startswith("checkin")] == ["checkin-reminder:1:2027-W01"]
    out = console.take()
    assert "[direktemelding til Ola] Partsbot:\n  == En bra dag på jobb ==\n  En påminnelse" in out
    assert "[direktemelding til Aisha] Partsbot:\n  == En bra dag på jobb ==\n  En påminnelse" in out
    for name in ("Per", "Kari"):
        assert f"[direktemelding til {name}] Partsbot:\n  == En bra dag på jobb ==" not in out
    assert out.count("En påminnelse") == 2


def test_comments_need_ten_answers_and_come_in_alphabetical_order(make_bot, database, clock) -> None:  # type: ignore[no-untyped-def]
    from bot.course.checkin import INDICATORS

    with database.transaction() as s:
        from bot.storage.models import Organisation, Unit

        org = Organisation(platform="console", external_id="console")
        s.add(org)
        s.flush()
        unit = Unit(organisation_id=org.id, channel_id="c", name="U")
        s.add(unit)
        s.flush()
        members = [Member(organisation_id=org.id, user_id=f"u{i}") for i in range(10)]
        s.add_all(members)
        s.flush()
        round_ = CheckinRound(
            unit_id=unit.id,
            week="2027-W01",
            opened_at=clock(),
            closes_at=clock(),
            remind_at=clock(),
            member_count=10,
            answer_count=0,
            comments=[],
        )
        s.add(round_)
        s.flush()
        survey.create_tallies(s, round_, INDICATORS)
        for i, member in enumerate(members[:9]):
            survey.record(
                s, round_, member.id, dict.fromkeys(INDICATORS, 3), f"kommentar {chr(ord('a') + i)}"
            )
        assert survey.visible_comments(round_) == []
        survey.record(s, round_, members[9].id, dict.fromkeys(INDICATORS, 4), "Ærlig talt")
        shown = survey.visible_comments(round_)
        assert shown[0] == "kommentar a" and shown[-1] == "Ærlig talt" and len(shown) == 10
        assert survey.means(s, round_, INDICATORS) == dict.fromkeys(INDICATORS, 3.1)  # 31/10


async def test_a_round_opened_early_reminds_a_day_after_the_invitation(make_bot, clock, database) -> None:  # type: ignore[no-untyped-def]
    people = (("Kari", "leder"), ("Per", "ansatt"), ("Aisha", "ansatt"))
    bot, console = await setup(make_bot, clock, people)
    clock.set(oslo(2027, 1, 5, 10).astimezone(UTC))  # Tuesday: Per answers before the invitation
    await answer(console, "Per", (3, 3, 3, 3, 3, 3))
    sent = await walk(bot, clock, oslo(2027, 1, 8, 14))
    at = {key: local(when) for when, key in sent}
    assert at["checkin:1:2027-W01"] == "2027-01-07 13:00 +0100"
    assert at["checkin-reminder:1:2027-W01"] == "2027-01-08 13:00 +0100"
    # Per answered already: neither the invitation nor the reminder goes to him.
    assert "[direktemelding til Per] Partsbot:\n  == En bra dag på jobb ==" not in console.transcript
    assert (
        "[direktemelding til Aisha] Partsbot:\n  == En bra dag på jobb ==\n  En påminnelse"
        in console.transcript
    )


def test_pseudo_answers_keep_each_questions_scores_even_when_some_skipped() -> None:
    """Means come from answer-shaped rows rebuilt from the tallies: row i holds the i-th score of each
    question, so a question fewer people answered simply ends early."""
    rows = survey._pseudo_answers({"a": {1: 2, 3: 1}, "b": {5: 1}, "c": {}})
    assert rows == [{"a": 1, "b": 5}, {"a": 1}, {"a": 3}]
    assert survey._pseudo_answers({}) == []


def test_an_answer_without_a_comment_adds_no_comment(make_bot, database, clock) -> None:  # type: ignore[no-untyped-def]
    from bot.course.checkin import INDICATORS

    with database.transaction() as s:
        from bot.storage.models import Organisation, Unit

        org = Organisation(platform="console", external_id="console")
        s.add(org)
        s.flush()
        unit = Unit(organisation_id=org.id, channel_id="c", name="U")
        members = [Member(organisation_id=org.id, user_id=f"u{n}") for n in range(2)]
        s.add_all([unit, *members])
        s.flush()
        round_ = CheckinRound(
            unit_id=unit.id,
            week="2027-W01",
            opened_at=clock(),
            closes_at=clock(),
            remind_at=clock(),
            member_count=2,
            answer_count=0,
            comments=[],
        )
        s.add(round_)
        s.flush()
        survey.create_tallies(s, round_, INDICATORS)
        survey.record(s, round_, members[0].id, dict.fromkeys(INDICATORS, 3))
        survey.record(s, round_, members[1].id, dict.fromkeys(INDICATORS, 4), "  ")
        assert round_.comments == []
        assert round_.answer_count == 2
        assert survey.counts(s, round_)[INDICATORS[0]] == {1: 0, 2: 0, 3: 1, 4: 1, 5: 0}


async def test_unanimous_scores_show_as_a_band_and_results_are_for_the_trio(
    make_bot, clock, database
) -> None:  # type: ignore[no-untyped-def]
    bot, console = await setup(make_bot, clock)
    clock.set(oslo(2027, 1, 7, 14).astimezone(UTC))
    # Everyone gives trygghet 5 (the last score); the other indicators differ.
    for name, first in zip(("Per", "Aisha", "Jonas", "Mari", "Lena"), (1, 2, 3, 4, 5), strict=True):
        await answer(console, name, (first, first, first, first, first, 5))
    with database.transaction() as s:
        assert len(s.scalars(select(CheckinRespondent)).all()) == 5
    await walk(bot, clock, oslo(2027, 1, 11, 9))
    # The round closed with the summary: who answered is forgotten, the totals stay.
    with database.transaction() as s:
        assert s.scalars(select(CheckinRespondent)).all() == []
        assert s.scalars(select(CheckinRound.answer_count)).all() == [5]
    out = await console.as_("Ola", "/parts sjekkinn resultat")
    assert "Arbeidsflyt: 3,0" in out
    assert "Trygghet: 4–5" in out
    assert "Trygghet: 5.0" not in out
    assert "vises et intervall" in out
    # Staff get a kind refusal: the results are the trio's working material (SEC-15).
    out = await console.as_("Per", "/parts sjekkinn resultat")
    assert "Resultatene av sjekk-inn er for leder, verneombud og tillitsvalgt." in out
    assert "Arbeidsflyt" not in out


async def test_an_answer_that_cannot_be_counted_is_not_lost_silently(  # type: ignore[no-untyped-def]
    make_bot, clock, database, monkeypatch
) -> None:
    """The marker is written first and the answer folded in after; if the fold fails, the marker goes
    again and the person is told to answer once more – and then can."""
    _, console = await setup(make_bot, clock)
    clock.set(oslo(2027, 1, 7, 14).astimezone(UTC))
    real_fold = survey.fold

    def broken(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away")

    monkeypatch.setattr(survey, "fold", broken)
    out = await answer(console, "Per", (3, 3, 3, 3, 3, 3))
    assert "Beklager, svaret ditt kom ikke med på grunn av en feil hos meg. Du kan svare på nytt." in out
    with database.transaction() as s:
        assert s.scalars(select(CheckinRespondent)).all() == []
        assert s.scalar(select(CheckinRound.answer_count)) == 0
    monkeypatch.setattr(survey, "fold", real_fold)
    await answer(console, "Per", (4, 4, 4, 4, 4, 4))
    with database.transaction() as s:
        assert s.scalar(select(CheckinRound.answer_count)) == 1
        assert len(s.scalars(select(CheckinRespondent)).all()) == 1
