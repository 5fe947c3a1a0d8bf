"""Teams hardening (issue 10): cards do not turn people's text into links or images (SEC-09); only Teams
tenants on the allow-list are served (SEC-18); the card key is encrypted at rest (SEC-05); Teams without
authentication listens on loopback only, whatever PARTSBOT_ENV says (SEC-04)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.crypto import new_key
from bot.server import bind_address
from bot.settings import Settings
from bot.storage.models import ConversationReference, KeyValue
from tests.teams.conftest import TeamsFactory
from tests.teams.fakes import Person, TeamsDriver, channel_message

KARI = Person("kari", "Kari")
PLANTED = "Vi har [et viktig skjema](https://evil.example/login) og ![x](https://evil.example/pixel.png)"


async def test_people_cannot_plant_links_or_images_in_cards(teams: TeamsDriver) -> None:
    mark = teams.mark()
    await teams.say(KARI, f"problem {PLANTED}")
    cards = json.dumps([c.cards for c in teams.since(mark)], ensure_ascii=False)
    assert "et viktig skjema" in cards  # the words are shown ...
    assert "](https://evil.example" not in cards  # ... but not as a link or an image
    assert "![x](" not in cards


async def test_tenants_outside_the_allow_list_are_ignored(start_teams: TeamsFactory) -> None:
    teams = await start_teams(teams_tenants=("another-tenant",))
    activity = channel_message(teams.service_url, KARI, "hjelp", mention=True)
    assert await teams.send(activity) == 200
    assert teams.since(0) == []
    with teams.bot.db.transaction() as s:
        assert s.scalars(select(ConversationReference)).all() == []


async def test_the_card_key_is_encrypted_at_rest(start_teams: TeamsFactory) -> None:
    teams = await start_teams(secret_key=new_key())
    await teams.say(KARI, "hjelp")
    key = await teams.adapter.messenger.signer()
    assert key is not None
    with teams.bot.db.transaction() as s:
        stored = s.get_one(KeyValue, "teams.card_secret").value
    assert stored.startswith("fernet:")
    assert teams.adapter.references.card_secret().hex() not in stored


def test_unauthenticated_teams_listens_on_loopback_only() -> None:
    class Anonymous:
        loopback_only = True

    class Signed:
        loopback_only = False

    everywhere = Settings(env="development", host="0.0.0.0")
    assert bind_address(everywhere, [Anonymous()]) == "127.0.0.1"  # type: ignore[list-item]
    assert bind_address(Settings(env="test", host="0.0.0.0"), [Anonymous()]) == "127.0.0.1"  # type: ignore[list-item]
    assert bind_address(everywhere, [Signed()]) == "0.0.0.0"  # type: ignore[list-item]
    assert bind_address(Settings(host="::1"), [Anonymous()]) == "::1"  # type: ignore[list-item]


async def test_removing_the_app_schedules_deletion_and_adding_it_again_cancels(teams: TeamsDriver) -> None:
    from bot.storage.models import Organisation

    await teams.say(KARI, "hjelp")

    async def installation(action: str) -> None:
        activity = channel_message(teams.service_url, KARI, "", mention=False)
        activity.update(type="installationUpdate", action=action, text=None)
        assert await teams.send(activity) == 200

    def delete_after() -> object:
        with teams.bot.db.transaction() as s:
            return s.scalars(select(Organisation.delete_after).where(Organisation.platform == "teams")).one()

    await installation("remove")
    assert delete_after() == teams.bot.clock() + timedelta(days=30)
    await installation("add")
    assert delete_after() is None


async def test_mine_data_in_teams_shows_the_file_as_text(teams: TeamsDriver) -> None:
    """A Teams bot cannot attach a file without a consent card: the JSON comes as monospace text."""
    await teams.say(KARI, "problem Garderoben er for trang")
    mark = teams.mark()
    await teams.say_privately(KARI, "mine data")
    [card] = [c for c in teams.since(mark) if "Dette har jeg lagret om deg" in c.text]
    body = json.dumps(card.cards, ensure_ascii=False)
    assert '"fontType": "Monospace"' in body
    assert "saker du har startet: 1" in card.text
    assert "statement" in body and "Garderoben er for trang" in body  # the JSON, as text
