"""The access policy for reflections and module 6's exchange, asked directly: who may answer a module's
reflection, who prepares, confirms and answers about a unit's exchange page, who names the exchange
channel, and that a unit of another organisation reaches none of it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.models import Member, Membership, Organisation, RoleAssignment, Unit
from bot.toolbox import access


@dataclass
class World:
    session: Session
    org: int
    other_org: int
    unit: int
    kari: int  # leder
    ola: int  # verneombud
    siri: int  # tillitsvalgt
    per: int  # staff
    hanne: int  # leder of a unit in another organisation


@pytest.fixture
def world(database: Database) -> Iterator[World]:
    with database.transaction() as s:
        org, other_org = (
            Organisation(platform="console", external_id="w"),
            Organisation(platform="console", external_id="x"),
        )
        s.add_all([org, other_org])
        s.flush()
        unit, far = (
            Unit(organisation_id=org.id, channel_id="c"),
            Unit(organisation_id=other_org.id, channel_id="f"),
        )
        s.add_all([unit, far])
        s.flush()
        people = [Member(organisation_id=org.id, user_id=u) for u in ("kari", "ola", "siri", "per")]
        hanne = Member(organisation_id=other_org.id, user_id="hanne")
        s.add_all([*people, hanne])
        s.flush()
        kari, ola, siri, per = (m.id for m in people)
        s.add_all([Membership(unit_id=unit.id, member_id=m) for m in (kari, ola, siri, per)])
        s.add(Membership(unit_id=far.id, member_id=hanne.id))
        for member, role in ((kari, "leder"), (ola, "verneombud"), (siri, "tillitsvalgt")):
            s.add(RoleAssignment(unit_id=unit.id, member_id=member, role=role))
        s.add(RoleAssignment(unit_id=far.id, member_id=hanne.id, role="leder"))
        s.flush()
        yield World(s, org.id, other_org.id, unit.id, kari, ola, siri, per, hanne.id)


def test_a_reflection_is_answered_by_those_the_module_was_for(world: World) -> None:
    s, org, unit = world.session, world.org, world.unit
    assert access.may_reflect(s, org, world.per, unit, trio_only=False)
    assert not access.may_reflect(s, org, world.per, unit, trio_only=True)
    assert access.may_reflect(s, org, world.ola, unit, trio_only=True)
    assert not access.may_reflect(s, world.other_org, world.hanne, unit, trio_only=False)


def test_the_other_party_confirms_and_never_the_proposer(world: World) -> None:
    s, org, unit = world.session, world.org, world.unit
    for member in (world.kari, world.ola, world.siri):
        assert access.may_prepare_exchange(s, org, member, unit)
    assert not access.may_prepare_exchange(s, org, world.per, unit)
    # A representative proposed: the leder confirms, the other representative does not.
    assert access.may_confirm_exchange(s, org, world.kari, unit, world.siri)
    assert not access.may_confirm_exchange(s, org, world.ola, unit, world.siri)
    assert not access.may_confirm_exchange(s, org, world.siri, unit, world.siri)
    # The leder proposed: a representative confirms.
    assert access.may_confirm_exchange(s, org, world.ola, unit, world.kari)
    assert access.may_confirm_exchange(s, org, world.siri, unit, world.kari)
    assert not access.may_confirm_exchange(s, org, world.kari, unit, world.kari)
    # Staff never; nothing proposed, nothing to confirm; another organisation's leder never.
    assert not access.may_confirm_exchange(s, org, world.per, unit, world.kari)
    assert not access.may_confirm_exchange(s, org, world.ola, unit, None)
    assert not access.may_confirm_exchange(s, world.other_org, world.hanne, unit, world.siri)


def test_groups_channels_questions_and_answers(world: World) -> None:
    s, org, unit = world.session, world.org, world.unit
    assert access.may_manage_exchange(s, org, world.kari, unit)
    assert not access.may_manage_exchange(s, org, world.ola, unit)
    assert access.may_name_exchange_channel(s, org, world.kari)
    assert not access.may_name_exchange_channel(s, org, world.per)
    # Hanne leads a unit, but not in this organisation.
    assert not access.may_name_exchange_channel(s, org, world.hanne)
    assert access.may_ask_exchange(s, org, world.per, [unit])
    assert not access.may_ask_exchange(s, world.other_org, world.hanne, [unit])
    assert access.may_answer_exchange(s, org, world.siri, unit)
    assert not access.may_answer_exchange(s, org, world.per, unit)
