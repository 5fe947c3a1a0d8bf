"""Workspaces install Partsbot through OAuth; tokens live in bolt's tables in our database and are deleted
when the workspace removes the app."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from bot.adapters.slack.app import BOT_SCOPES, build_slack_adapter
from bot.adapters.slack.models import slack_bots, slack_installations, slack_oauth_states
from bot.settings import Settings
from tests.slack.fakes import INSTALLED_TOKEN, SIGNING_SECRET, FakeSlack, SlackDriver

NEW_TEAM = "T0NEWKIDS"
# slack_sdk's oauth.v2.access still uses aiohttp.BasicAuth, deprecated in aiohttp 3.14 (not our code).
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
def slack_settings(fake_slack: FakeSlack) -> dict[str, Any]:
    return {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_client_id": "1111.2222",
        "slack_client_secret": "client-secret",
        "slack_api_url": fake_slack.url + "/api/",
    }


def _rows(slack: SlackDriver, table: Any) -> list[Any]:
    with slack.bot.db.engine.connect() as conn:
        return list(conn.execute(select(table)).mappings())


async def _install(slack: SlackDriver) -> Any:
    response = await slack.client.get("/slack/install", allow_redirects=False)
    assert response.status == 302
    location = urlparse(response.headers["Location"])
    query = parse_qs(location.query)
    assert location.path.endswith("/oauth/v2/authorize")
    assert query["client_id"] == ["1111.2222"]
    assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
    state = query["state"][0]
    assert [row["state"] for row in _rows(slack, slack_oauth_states)] == [state]
    cookie = response.cookies["slack-app-oauth-state"].value
    return await slack.client.get(
        "/slack/oauth_redirect",
        params={"code": "code-from-slack", "state": state},
        headers={"Cookie": f"slack-app-oauth-state={cookie}"},
    )


async def test_oauth_install_stores_the_workspace_and_then_it_works(slack: SlackDriver) -> None:
    response = await _install(slack)
    assert response.status == 200
    page = await response.text()
    assert "Eventyrskogen" in page
    [access] = slack.fake.of("oauth.v2.access")
    assert access.body["code"] == "code-from-slack"
    [bot] = _rows(slack, slack_bots)
    assert (bot["team_id"], bot["bot_token"]) == (NEW_TEAM, INSTALLED_TOKEN)
    assert len(_rows(slack, slack_installations)) == 1
    assert _rows(slack, slack_oauth_states) == []  # a state is good for one use

    await slack.command("rolle leder", team=NEW_TEAM)
    [announcement] = await slack.fake.wait_for("chat.postMessage")
    assert announcement.token == INSTALLED_TOKEN


async def test_oauth_redirect_with_a_forged_state_is_refused(slack: SlackDriver) -> None:
    response = await slack.client.get(
        "/slack/oauth_redirect",
        params={"code": "code-from-slack", "state": "made-up"},
        headers={"Cookie": "slack-app-oauth-state=made-up"},
    )
    assert response.status >= 400
    assert slack.fake.of("oauth.v2.access") == []
    assert _rows(slack, slack_bots) == []


async def test_command_from_a_workspace_that_never_installed_gets_an_install_hint(slack: SlackDriver) -> None:
    response = await slack.command("hjelp", team="T0NOBODY")
    assert response.status == 200
    [hint] = await slack.fake.wait_for("response_url")
    assert "install" in hint.body["text"].lower()
    assert slack.fake.of("chat.postEphemeral") == []


async def test_app_uninstalled_deletes_the_tokens(slack: SlackDriver) -> None:
    await _install(slack)
    await slack.command("hjelp", team=NEW_TEAM)
    await slack.fake.wait_for_private()

    response = await slack.event({"type": "app_uninstalled", "event_ts": "1700000900.1"}, team=NEW_TEAM)
    assert response.status == 200
    await slack.idle()
    assert _rows(slack, slack_bots) == []
    assert _rows(slack, slack_installations) == []
    # Nothing can be sent there any more: the delivery fails for good instead of retrying forever.
    assert await slack.adapter.tokens.token_for(NEW_TEAM) is None


async def test_tokens_revoked_deletes_the_bot_token(slack: SlackDriver) -> None:
    await _install(slack)
    event = {"type": "tokens_revoked", "tokens": {"bot": ["UPARTSBOT"]}, "event_ts": "1700000901.1"}
    await slack.event(event, team=NEW_TEAM)
    await slack.idle()
    assert _rows(slack, slack_bots) == []


def test_install_routes_exist_only_with_oauth(make_bot: Any, fake_slack: FakeSlack) -> None:
    bot = make_bot(
        slack_signing_secret=SIGNING_SECRET, slack_bot_token="xoxb-1", slack_api_url=fake_slack.url
    )
    adapter = build_slack_adapter(bot, bot.settings)
    assert adapter is not None and adapter.app.oauth_flow is None


def test_slack_is_not_configured_without_a_way_to_receive(make_bot: Any) -> None:
    bot = make_bot(slack_bot_token="xoxb-1")
    assert build_slack_adapter(bot, bot.settings) is None
    assert build_slack_adapter(bot, Settings(env="test")) is None


def test_manifest_asks_for_exactly_the_scopes_the_install_requests() -> None:
    import yaml

    from bot.i18n import prompts_dir

    manifest = yaml.safe_load((prompts_dir().parent / "apps" / "slack" / "manifest.yaml").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    assert manifest["features"]["shortcuts"][0]["callback_id"] == "create_case_from_message"
    with pytest.raises(KeyError):
        manifest["oauth_config"]["scopes"]["user"]


def _count(slack: SlackDriver, table: Any) -> int:
    with slack.bot.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


# --------------------------------------------------------------------------------------------------
# Secrets at rest, state hygiene, rate limit (issue 10: SEC-05, SEC-17)
# --------------------------------------------------------------------------------------------------


async def test_expired_states_are_cleaned_and_install_is_rate_limited(slack: SlackDriver) -> None:
    from datetime import UTC, datetime, timedelta

    with slack.bot.db.engine.begin() as conn:
        conn.execute(
            slack_oauth_states.insert(),
            [{"state": f"old-{i}", "expire_at": datetime.now(UTC) - timedelta(hours=1)} for i in range(5)],
        )
    statuses = [(await slack.client.get("/slack/install", allow_redirects=False)).status for _ in range(12)]
    assert statuses[:10] == [302] * 10
    assert statuses[10:] == [429, 429]
    states = [row["state"] for row in _rows(slack, slack_oauth_states)]
    assert len(states) == 10 and not [s for s in states if s.startswith("old-")]


async def test_uninstall_schedules_deletion_and_a_reinstall_keeps_the_data(
    slack: SlackDriver, clock: Any
) -> None:
    from datetime import timedelta

    from bot.storage.models import Organisation
    from bot.storage.personal import delete_due_organisations

    await _install(slack)
    await slack.command("hjelp", team=NEW_TEAM)
    await slack.fake.wait_for_private()
    await slack.event({"type": "app_uninstalled", "event_ts": "1700000900.1"}, team=NEW_TEAM)
    await slack.idle()
    with slack.bot.db.transaction() as s:
        org = s.scalars(select(Organisation).where(Organisation.external_id == NEW_TEAM)).one()
        assert org.delete_after == clock() + timedelta(days=30)
    # Installed again within the 30 days: nothing is deleted.
    await _install(slack)
    with slack.bot.db.transaction() as s:
        assert (
            s.scalars(select(Organisation.delete_after).where(Organisation.external_id == NEW_TEAM)).one()
            is None
        )
    # Removed for good: after 30 days the workspace's data goes.
    await slack.event({"type": "app_uninstalled", "event_ts": "1700000901.1"}, team=NEW_TEAM)
    await slack.idle()
    with slack.bot.db.transaction() as s:
        assert delete_due_organisations(s, clock() + timedelta(days=29)) == 0
    with slack.bot.db.transaction() as s:
        assert delete_due_organisations(s, clock() + timedelta(days=31)) == 1
    with slack.bot.db.transaction() as s:
        assert s.scalars(select(Organisation).where(Organisation.external_id == NEW_TEAM)).all() == []
