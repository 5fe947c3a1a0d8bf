"""The access policy's answers for votes and case lists, asked directly (make mutate found them untested).

A vote of a parties-only case follows its case: staff who are not parties neither see nor close it; its
starter and the parties do. A standalone vote is seen by the unit's members and closed by its owner or a
party. The case-list clause (the App Home's) hides parties-only cases from staff of other units' parties.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.models import Member, Membership, Organisation, RoleAssignment, Unit
from bot.toolbox import access, voting
from bot.toolbox.models import Case
from bot.toolbox.models_plan import Vote

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@dataclass
class World:
    session: Session
    org: int
    unit: int
    kari: int  # leder: a party
    siri: int  # staff who started the parties-only case
    per: int  # staff
    outsider: int  # a member of the organisation who is not in the unit
    private: Case
    open_case: Case


def _vote(s: Session, unit: int, owner: int | None, case_id: int | None) -> Vote:
    return voting.open_vote(
        s,
        unit_id=unit,
        owner_id=owner,
        title="t",
        options=[(1, "a", None), (2, "b", None)],
        budget=3,
        cap=2,
        deadline=NOW + timedelta(days=1),
        now=NOW,
        case_id=case_id,
    )


@pytest.fixture
def world(database: Database) -> Iterator[World]:
    with database.transaction() as s:
        org = Organisation(platform="console", external_id="w")
        s.add(org)
        s.flush()
        unit = Unit(organisation_id=org.id, channel_id="c")
        other = Unit(organisation_id=org.id, channel_id="d")
        s.add_all([unit, other])
        s.flush()
        people = [Member(organisation_id=org.id, user_id=u) for u in ("kari", "siri", "per", "ola")]
        s.add_all(people)
        s.flush()
        kari, siri, per, ola = (m.id for m in people)
        s.add_all([Membership(unit_id=unit.id, member_id=m) for m in (kari, siri, per)])
        s.add(Membership(unit_id=other.id, member_id=ola))
        s.add(RoleAssignment(unit_id=unit.id, member_id=kari, role="leder"))
        s.add(RoleAssignment(unit_id=other.id, member_id=ola, role="verneombud"))
        private = Case(unit_id=unit.id, title="p", statement="p", started_by_id=siri, parties_only=True)
        open_case = Case(unit_id=unit.id, title="o", statement="o", started_by_id=per, parties_only=False)
        s.add_all([private, open_case])
        s.flush()
        yield World(s, org.id, unit.id, kari, siri, per, ola, private, open_case)


def test_a_vote_of_a_parties_only_case_follows_its_case(world: World) -> None:
    s = world.session
    vote = _vote(s, world.unit, world.siri, world.private.id)
    see = {m: access.may_see_vote(s, world.org, m, vote) for m in (world.kari, world.siri, world.per)}
    assert see == {world.kari: True, world.siri: True, world.per: False}
    close = {m: access.may_close_vote(s, world.org, m, vote) for m in (world.kari, world.siri, world.per)}
    assert close == {world.kari: True, world.siri: True, world.per: False}
    assert access.may_see_vote(s, world.org + 1, world.kari, vote) is False  # another organisation


def test_a_standalone_vote_is_the_units_and_closed_by_its_owner_or_a_party(world: World) -> None:
    s = world.session
    vote = _vote(s, world.unit, world.per, None)
    assert [access.may_see_vote(s, world.org, m, vote) for m in (world.kari, world.siri, world.per)] == [
        True,
        True,
        True,
    ]
    assert access.may_see_vote(s, world.org, world.outsider, vote) is False  # not in the unit
    assert access.may_close_vote(s, world.org, world.per, vote) is True  # the owner
    assert access.may_close_vote(s, world.org, world.kari, vote) is True  # a party
    assert access.may_close_vote(s, world.org, world.siri, vote) is False  # staff, not the owner
    assert access.may_close_vote(s, world.org, world.outsider, vote) is False  # a party elsewhere


def test_the_case_list_clause_hides_parties_only_cases_from_staff(world: World) -> None:
    s = world.session

    def listed(member: int | None) -> set[int]:
        query = select(Case.id).where(Case.unit_id == world.unit, access.visible_case_clause(s, member))
        return set(s.scalars(query))

    both = {world.private.id, world.open_case.id}
    assert listed(world.kari) == both  # a party of the unit
    assert listed(world.siri) == both  # started it
    assert listed(world.per) == {world.open_case.id}
    assert listed(world.outsider) == {world.open_case.id}  # a party, but of another unit
    assert listed(None) == {world.open_case.id}  # someone Partsbot does not know yet


def test_a_staff_gatherings_draft_is_for_the_parties_of_its_own_unit(world: World) -> None:
    s = world.session
    may = {m: access.may_prepare_gathering(s, world.org, m, world.unit) for m in (world.kari, world.per)}
    assert may == {world.kari: True, world.per: False}
    # A party of another unit, and the right person asked from another organisation, get nothing.
    assert access.may_prepare_gathering(s, world.org, world.outsider, world.unit) is False
    assert access.may_prepare_gathering(s, world.org + 1, world.kari, world.unit) is False


def test_a_meeting_is_seen_by_its_unit_and_run_by_its_organiser(world: World) -> None:
    from bot.toolbox.models_plan import Meeting

    s = world.session
    meeting = Meeting(
        unit_id=world.unit,
        organiser_id=world.per,
        purpose="p",
        desired_result="r",
        starts_at=NOW,
        length_minutes=30,
        ends_at=NOW + timedelta(minutes=30),
    )
    s.add(meeting)
    s.flush()
    see = {
        m: access.may_see_meeting(s, world.org, m, meeting) for m in (world.kari, world.per, world.outsider)
    }
    assert see == {world.kari: True, world.per: True, world.outsider: False}
    run = {
        m: access.may_run_meeting(s, world.org, m, meeting) for m in (world.kari, world.per, world.outsider)
    }
    assert run == {world.kari: False, world.per: True, world.outsider: False}
    assert access.may_run_meeting(s, world.org + 1, world.per, meeting) is False


def test_a_case_is_ended_by_its_starter_or_a_party_of_its_unit_while_open(world: World) -> None:
    s, org, case = world.session, world.org, world.open_case  # started by Per (staff)
    assert access.may_end_case(s, org, world.per, case)  # its starter
    assert access.may_end_case(s, org, world.kari, case)  # the leder of its unit
    assert not access.may_end_case(s, org, world.siri, case)  # staff who did not start it
    assert not access.may_end_case(s, org, world.outsider, case)  # a verneombud of another unit
    # A parties-only case: its starter and the parties; staff do not even see it.
    assert access.may_end_case(s, org, world.siri, world.private)
    assert not access.may_end_case(s, org, world.per, world.private)
    # Decided (followed up, closed by its own loop) or ended (closed_at set): nobody withdraws it.
    case.step = "agreed"
    assert not access.may_end_case(s, org, world.per, case)
    assert not access.may_end_case(s, org, world.kari, case)
    case.step, case.closed_at = "plan", NOW
    assert not access.may_end_case(s, org, world.per, case)
    assert not access.may_end_case(s, org, world.kari, case)


def test_a_trio_meeting_is_seen_and_planned_by_the_trio_of_its_own_unit_only(world: World) -> None:
    from bot.toolbox.models_plan import Meeting

    s = world.session
    meeting = Meeting(
        unit_id=world.unit,
        kind="trio",
        organiser_id=world.kari,
        purpose="p",
        desired_result="r",
        starts_at=NOW,
        length_minutes=30,
        ends_at=NOW + timedelta(minutes=30),
    )
    s.add(meeting)
    s.flush()
    # Kari is the unit's leder; Siri and Per are staff (Siri even started a parties-only case); Ola is a
    # verneombud – of another unit, which gives him nothing here.
    people = (world.kari, world.siri, world.per, world.outsider)
    assert {m: access.may_see_meeting(s, world.org, m, meeting) for m in people} == {
        world.kari: True,
        world.siri: False,
        world.per: False,
        world.outsider: False,
    }
    assert {m: access.may_plan_trio_meeting(s, world.org, m, world.unit) for m in people} == {
        world.kari: True,
        world.siri: False,
        world.per: False,
        world.outsider: False,
    }
    assert access.may_see_meeting(s, world.org + 1, world.kari, meeting) is False
    assert access.may_plan_trio_meeting(s, world.org + 1, world.kari, world.unit) is False


def test_entries_are_struck_by_the_starter_or_a_party_of_the_cases_unit(world: World) -> None:
    s = world.session
    strike = {
        m: access.may_strike_entry(s, world.org, m, world.open_case)
        for m in (world.kari, world.siri, world.per, world.outsider)
    }
    # Per started it, Kari is the unit's leder; Siri is staff; Ola is a verneombud of another unit.
    assert strike == {world.kari: True, world.siri: False, world.per: True, world.outsider: False}
    assert access.may_strike_entry(s, world.org + 1, world.kari, world.open_case) is False
    # A parties-only case: its starter and the parties, not staff who cannot see it.
    assert access.may_strike_entry(s, world.org, world.siri, world.private) is True
    assert access.may_strike_entry(s, world.org, world.per, world.private) is False


def test_an_entry_is_undone_by_its_author_only_and_only_for_a_while(world: World) -> None:
    s = world.session
    written = NOW - timedelta(minutes=5)

    def undo(
        member: int, author: int | None, at: datetime | None = written, case: Case | None = None
    ) -> bool:
        return access.may_undo_entry(s, world.org, member, case or world.open_case, author, at, NOW)

    assert undo(world.siri, world.siri) is True
    assert undo(world.kari, world.siri) is False  # not even the leder takes back someone's words
    assert undo(world.siri, None) is False  # an anonymous question has no author to undo it
    assert undo(world.siri, world.siri, NOW - access.UNDO_WINDOW - timedelta(seconds=1)) is False
    assert undo(world.siri, world.siri, None) is False
    assert undo(world.outsider, world.outsider) is False  # not in the case's unit
    assert undo(world.per, world.per, case=world.private) is False  # cannot see the case any more
