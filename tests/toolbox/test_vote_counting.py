"""Dot voting's arithmetic on its own: ballots, the budget and the cap, places and ties, closing.

The flows through the console (test_vote.py) prove the vote works for people; these pin the counting
rules themselves, so that `make mutate` finds no changed comparison or default that still passes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from bot.chat.context import UserError
from bot.storage.db import Database
from bot.storage.models import Member, Organisation, Unit
from bot.toolbox import voting
from bot.toolbox.models_plan import Vote, VoteDot

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.transaction() as s:
        org = Organisation(platform="console", external_id="w")
        s.add(org)
        s.flush()
        s.add(Unit(organisation_id=org.id, channel_id="c"))
        s.add_all([Member(organisation_id=org.id, user_id=f"u{n}") for n in range(1, 4)])
        s.flush()
        yield s


def _vote(s: Session, options: int = 3, budget: int = 3, cap: int = 2) -> Vote:
    unit = s.query(Unit).one()
    return voting.open_vote(
        s,
        unit_id=unit.id,
        owner_id=None,
        title="t",
        options=[(n, f"option {n}", None) for n in range(1, options + 1)],
        budget=budget,
        cap=cap,
        deadline=NOW + timedelta(days=1),
        now=NOW,
    )


def _ids(s: Session, vote: Vote) -> list[int]:
    return [o.id for o in voting.options_of(s, vote.id)]


def _members(s: Session) -> list[int]:
    return [m.id for m in s.query(Member).order_by(Member.id)]


def _mine(s: Session, vote: Vote, member: int) -> Counter[int]:
    return Counter(d.option_id for d in voting.dots_of(s, vote.id, member))


def test_a_ballot_is_stored_exactly_and_changed_exactly(session: Session) -> None:
    vote = _vote(session)
    a, b, c = _ids(session, vote)
    kari, *_ = _members(session)
    assert voting.set_ballot(session, vote.id, kari, {a: 2, b: 1}, NOW) is True
    assert _mine(session, vote, kari) == Counter({a: 2, b: 1})
    # The same ballot again changes nothing and says so.
    assert voting.set_ballot(session, vote.id, kari, {a: 2, b: 1, c: 0}, NOW) is False
    # Moving one dot from a to c keeps one on a and b, and every dot has its own slot within the budget.
    assert voting.set_ballot(session, vote.id, kari, {a: 1, b: 1, c: 1}, NOW) is True
    dots = voting.dots_of(session, vote.id, kari)
    assert Counter(d.option_id for d in dots) == Counter({a: 1, b: 1, c: 1})
    assert sorted(d.slot for d in dots) == [0, 1, 2]
    assert all(d.option_slot == 0 for d in dots)
    assert all(d.created_at == NOW for d in dots)
    # Fewer dots: the rest are taken back; none at all empties the ballot.
    assert voting.set_ballot(session, vote.id, kari, {c: 1}, NOW) is True
    assert _mine(session, vote, kari) == Counter({c: 1})
    assert voting.set_ballot(session, vote.id, kari, {}, NOW) is True
    assert _mine(session, vote, kari) == Counter()


def test_two_dots_on_one_option_take_its_two_option_slots(session: Session) -> None:
    vote = _vote(session, budget=4, cap=2)
    a, b, _ = _ids(session, vote)
    kari, *_ = _members(session)
    voting.set_ballot(session, vote.id, kari, {a: 2, b: 2}, NOW)
    by_option = sorted((d.option_id, d.option_slot) for d in voting.dots_of(session, vote.id, kari))
    assert by_option == [(a, 0), (a, 1), (b, 0), (b, 1)]
    voting.set_ballot(session, vote.id, kari, {a: 1, b: 2}, NOW)
    assert sorted((d.option_id, d.option_slot) for d in voting.dots_of(session, vote.id, kari)) == [
        (a, 0),
        (b, 0),
        (b, 1),
    ]


@pytest.mark.parametrize(
    ("wanted", "error"),
    [
        ({0: 1}, "errors.unknown_action"),  # option 0: not one of this vote's
        ({1: 3}, "vote.over_cap"),  # cap 2
        ({1: 2, 2: 2}, "vote.over_budget"),  # budget 3
    ],
)
def test_a_ballot_over_the_rules_changes_nothing(
    session: Session, wanted: dict[int, int], error: str
) -> None:
    vote = _vote(session)
    ids = _ids(session, vote)
    kari, *_ = _members(session)
    voting.set_ballot(session, vote.id, kari, {ids[0]: 1}, NOW)
    # Positions 1..3 stand for this vote's option ids; 0 for an option that is not there.
    ballot = {(ids[k - 1] if k else max(ids) + 100): n for k, n in wanted.items()}
    with pytest.raises(UserError) as err:
        voting.set_ballot(session, vote.id, kari, ballot, NOW)
    assert err.value.key == error
    assert _mine(session, vote, kari) == Counter({ids[0]: 1})


def test_the_cap_and_the_budget_themselves_are_allowed(session: Session) -> None:
    vote = _vote(session, budget=3, cap=2)
    a, b, _ = _ids(session, vote)
    kari, *_ = _members(session)
    assert voting.set_ballot(session, vote.id, kari, {a: 2, b: 1}, NOW) is True  # cap 2, budget 3 exactly


def test_set_dots_changes_one_option_and_keeps_the_others(session: Session) -> None:
    vote = _vote(session)
    a, b, _ = _ids(session, vote)
    kari, *_ = _members(session)
    voting.set_ballot(session, vote.id, kari, {a: 1, b: 1}, NOW)
    assert voting.set_dots(session, vote.id, kari, a, 2, NOW) is True
    assert _mine(session, vote, kari) == Counter({a: 2, b: 1})
    assert voting.set_dots(session, vote.id, kari, b, 0, NOW) is True
    assert _mine(session, vote, kari) == Counter({a: 2})


def test_places_ties_and_winners(session: Session) -> None:
    vote = _vote(session, options=4, budget=3, cap=2)
    a, b, c, d = _ids(session, vote)
    kari, ola, siri = _members(session)
    assert voting.winners(session, vote) == []  # nobody voted: no winner
    assert [(p.place, p.dots, p.tied) for p in voting.results(session, vote)] == [
        (1, 0, True),
        (1, 0, True),
        (1, 0, True),
        (1, 0, True),
    ]
    voting.set_ballot(session, vote.id, kari, {b: 2, c: 1}, NOW)
    voting.set_ballot(session, vote.id, ola, {a: 1, b: 1, d: 1}, NOW)
    voting.set_ballot(session, vote.id, siri, {c: 2}, NOW)
    # b 3, c 3, a 1, d 1: b and c share the first place, a and d the third; listed by position within a tie.
    placings = voting.results(session, vote)
    assert [(p.option.id, p.place, p.dots, p.tied) for p in placings] == [
        (b, 1, 3, True),
        (c, 1, 3, True),
        (a, 3, 1, True),
        (d, 3, 1, True),
    ]
    assert [o.id for o in voting.winners(session, vote)] == [b, c]
    assert voting.voter_count(session, vote.id) == 3
    voting.set_ballot(session, vote.id, siri, {c: 1}, NOW)  # now b 3, c 2, a 1, d 1
    assert [(p.option.id, p.place, p.dots, p.tied) for p in voting.results(session, vote)] == [
        (b, 1, 3, False),
        (c, 2, 2, False),
        (a, 3, 1, True),
        (d, 3, 1, True),
    ]
    assert [o.id for o in voting.winners(session, vote)] == [b]


def test_an_option_nobody_chose_has_no_dots_and_the_last_place(session: Session) -> None:
    vote = _vote(session, options=3)
    a, b, c = _ids(session, vote)
    kari, *_ = _members(session)
    voting.set_ballot(session, vote.id, kari, {c: 1}, NOW)
    assert [(p.option.id, p.place, p.dots, p.tied) for p in voting.results(session, vote)] == [
        (c, 1, 1, False),
        (a, 2, 0, True),
        (b, 2, 0, True),
    ]


def test_closing_records_when_and_who_once_and_then_no_ballot_counts(session: Session) -> None:
    vote = _vote(session)
    a, *_ = _ids(session, vote)
    kari, ola, _ = _members(session)
    closed = voting.close(session, vote.id, ola, NOW + timedelta(hours=1))
    assert closed is not None
    assert (closed.status, closed.closed_at, closed.closed_by_id) == ("closed", NOW + timedelta(hours=1), ola)
    assert voting.close(session, vote.id, kari, NOW + timedelta(hours=2)) is None  # the second click
    assert closed.closed_by_id == ola
    with pytest.raises(UserError) as err:
        voting.set_ballot(session, vote.id, kari, {a: 1}, NOW)
    assert err.value.key == "vote.closed"
    assert session.query(VoteDot).count() == 0


def test_a_vote_that_is_not_there_is_refused(session: Session) -> None:
    with pytest.raises(UserError):
        voting.lock(session, 404)


@pytest.mark.parametrize(
    ("budget", "cap", "ok"),
    [
        (1, 1, True),
        (voting.MAX_BUDGET, 1, True),
        (3, 3, True),
        (0, 1, False),
        (voting.MAX_BUDGET + 1, 1, False),
        (3, 0, False),
        (3, 4, False),
    ],
)
def test_budget_and_cap_limits(budget: int, cap: int, ok: bool) -> None:
    if ok:
        voting.check_settings(budget, cap)
    else:
        with pytest.raises(UserError):
            voting.check_settings(budget, cap)


def test_opening_refuses_empty_too_many_and_past(session: Session) -> None:
    unit = session.query(Unit).one()

    def open_with(options: int, deadline: datetime | None) -> Vote:
        return voting.open_vote(
            session,
            unit_id=unit.id,
            owner_id=None,
            title="t",
            options=[(n, str(n), None) for n in range(1, options + 1)],
            budget=3,
            cap=2,
            deadline=deadline,
            now=NOW,
        )

    for options, deadline in ((0, None), (voting.MAX_OPTIONS + 1, None), (2, NOW)):
        with pytest.raises(UserError):
            open_with(options, deadline)
    vote = open_with(voting.MAX_OPTIONS, None)
    assert [o.position for o in voting.options_of(session, vote.id)] == list(range(1, voting.MAX_OPTIONS + 1))
    assert (vote.budget, vote.cap, vote.status, vote.created_at) == (3, 2, "open", NOW)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("#3 #3 5", [3, 3, 5]),
        ("3, 3 og 5", [3, 3, 5]),
        ("1 and 2", [1, 2]),
        ("0", []),
        ("Ingen", []),
        ("reset", []),
        ("9999", [9999]),
        ("10000", None),
        ("tre", None),
        ("", None),
        ("0 1", [0, 1]),
    ],
)
def test_numbers_people_type_as_a_ballot(text: str, numbers: list[int] | None) -> None:
    assert voting.parse_numbers(text) == numbers


def test_numbers_become_a_ballot_by_position(session: Session) -> None:
    vote = _vote(session)
    a, _, c = _ids(session, vote)
    assert voting.ballot_from_numbers(session, vote, [3, 1, 3]) == {c: 2, a: 1}
    with pytest.raises(UserError) as err:
        voting.ballot_from_numbers(session, vote, [1, 4])
    assert err.value.values == {"number": 4}
