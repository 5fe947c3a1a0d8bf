"""Authentication of ``POST /api/messages`` with an app id, and settings that must refuse to start.

The Bot Framework signs its tokens with keys published at login.botframework.com, which tests cannot reach.
Instead, botbuilder's own channel validation is pointed at a local OpenID metadata document listing a key
the test generated (``ChannelValidation.open_id_metadata_endpoint``), so the real validation code runs –
issuer, audience, expiry, signature, key id, endorsements, ``serviceurl`` claim – against tokens we sign.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import func, select

from bot.adapters.teams import TeamsWebAdapter, build_teams_adapter
from bot.settings import Settings, SettingsError, load_settings
from bot.storage.models import ConversationReference, Member, Organisation, OutboxItem
from tests.teams.conftest import TeamsFactory
from tests.teams.fakes import KARI, TeamsDriver, channel_message

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
ISSUER = "https://api.botframework.com"
KEY_ID = "partsbot-test-key"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


SIGNING_KEY = new_key()
WRONG_KEY = new_key()


class FakeOpenId:
    """The two documents botbuilder fetches: OpenID configuration → JWKS with our public key."""

    def __init__(self) -> None:
        self.url = ""
        self.requests = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._configuration)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        return app

    async def _configuration(self, request: web.Request) -> web.Response:
        self.requests += 1
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}/v1/.well-known/keys"})

    async def _keys(self, request: web.Request) -> web.Response:
        jwk = json.loads(RSAAlgorithm.to_jwk(SIGNING_KEY.public_key()))
        jwk.update(kid=KEY_ID, use="sig", endorsements=["msteams"])
        return web.json_response({"keys": [jwk]})


@pytest.fixture
async def openid(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenId]:
    fake = FakeOpenId()
    server = TestServer(fake.app(), host="127.0.0.1", port=0)
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    # Each test has its own port, so botbuilder's process-wide key cache (keyed by URL) starts empty.
    monkeypatch.setattr(
        "bot.adapters.teams.adapter.ChannelValidation.open_id_metadata_endpoint",
        f"{fake.url}/v1/.well-known/openidconfiguration",
    )
    yield fake
    await server.close()


@pytest.fixture
async def secured(start_teams: TeamsFactory, openid: FakeOpenId) -> TeamsDriver:
    return await start_teams(microsoft_app_id=APP_ID)


def token(service_url: str, *, key: Any = SIGNING_KEY, kid: str = KEY_ID, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 10,
        "exp": now + 600,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def stored(teams: TeamsDriver) -> tuple[int, int, int]:
    with teams.bot.db.transaction() as session:
        return (
            int(session.scalar(select(func.count(ConversationReference.id))) or 0),
            int(session.scalar(select(func.count(Organisation.id))) or 0),
            int(session.scalar(select(func.count(Member.id))) or 0),
        )


async def test_a_valid_token_is_accepted(secured: TeamsDriver, openid: FakeOpenId) -> None:
    activity = channel_message(secured.service_url, KARI, "rolle leder")
    headers = {"Authorization": f"Bearer {token(secured.service_url)}"}
    assert await secured.send(activity, headers) == 200
    assert stored(secured) == (1, 1, 1)
    assert openid.requests == 1
    # Outgoing calls need a token from Microsoft Entra ID, unreachable here (the conftest refuses every
    # connection that is not to 127.0.0.1): the answers wait in the outbox, marked for a later try.
    with secured.bot.db.transaction() as session:
        waiting = list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))
    assert len(waiting) == 2  # the private confirmation and the announcement in the channel
    assert waiting[0].attempts == 1 and "login.microsoftonline.com" in waiting[0].last_error
    assert secured.connector.calls == []


def _bad_headers(service_url: str) -> list[tuple[str, dict[str, str]]]:
    now = int(time.time())
    return [
        ("no header", {}),
        ("not bearer", {"Authorization": "Basic a2FyaTpoZW1tZWxpZw=="}),
        ("bearer without token", {"Authorization": "Bearer"}),
        ("malformed bearer", {"Authorization": "Bearer not-a-jwt"}),
        ("malformed three parts", {"Authorization": "Bearer abc.def.ghi"}),
        ("wrong signing key", {"Authorization": f"Bearer {token(service_url, key=WRONG_KEY)}"}),
        ("unknown key id", {"Authorization": f"Bearer {token(service_url, kid='someone-else')}"}),
        ("expired", {"Authorization": f"Bearer {token(service_url, exp=now - 3600, nbf=now - 7200)}"}),
        ("other audience", {"Authorization": f"Bearer {token(service_url, aud='another-bot')}"}),
        ("other issuer", {"Authorization": f"Bearer {token(service_url, iss='https://evil.example')}"}),
        ("other service url", {"Authorization": f"Bearer {token('https://evil.example/')}"}),
        (
            "unsigned",
            {"Authorization": "Bearer " + jwt.encode({"iss": ISSUER, "aud": APP_ID}, "", algorithm="none")},
        ),
    ]


@pytest.mark.parametrize("case", [name for name, _ in _bad_headers("")])
async def test_unauthenticated_requests_get_401_and_nothing_is_stored(
    secured: TeamsDriver, case: str
) -> None:
    headers = dict(_bad_headers(secured.service_url))[case]
    activity = channel_message(secured.service_url, KARI, "rolle leder")
    assert await secured.send(activity, headers) == 401
    assert stored(secured) == (0, 0, 0)
    assert secured.connector.calls == []


async def test_unreachable_signing_keys_are_a_503_not_a_401(
    start_teams: TeamsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "bot.adapters.teams.adapter.ChannelValidation.open_id_metadata_endpoint",
        "http://127.0.0.1:9/v1/.well-known/openidconfiguration",  # nothing listens on port 9
    )
    teams = await start_teams(microsoft_app_id=APP_ID)
    activity = channel_message(teams.service_url, KARI, "hjelp")
    headers = {"Authorization": f"Bearer {token(teams.service_url)}"}
    assert await teams.send(activity, headers) == 503
    assert stored(teams) == (0, 0, 0)


# --------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------


def test_production_without_app_id_refuses_to_start_teams(make_bot: Any) -> None:
    bot = make_bot(env="production", slack_signing_secret="x")
    with pytest.raises(SettingsError, match="MICROSOFT_APP_ID"):
        TeamsWebAdapter(bot, allow_anonymous=True)
    requested = Settings(**{**bot.settings.__dict__, "extra": {"PARTSBOT_TEAMS": "1"}})
    with pytest.raises(SettingsError, match="MICROSOFT_APP_ID"):
        build_teams_adapter(bot, requested)


def test_production_with_app_id_needs_the_password(make_bot: Any) -> None:
    bot = make_bot(env="production", microsoft_app_id=APP_ID)
    with pytest.raises(SettingsError, match="MICROSOFT_APP_PASSWORD"):
        build_teams_adapter(bot)
    ok = make_bot(env="production", microsoft_app_id=APP_ID, microsoft_app_password="secret")
    assert isinstance(build_teams_adapter(ok), TeamsWebAdapter)


def test_no_app_id_means_no_teams_unless_asked_for(make_bot: Any) -> None:
    bot = make_bot()
    assert build_teams_adapter(bot) is None
    with pytest.raises(SettingsError):
        TeamsWebAdapter(bot)  # anonymous only when the caller says so explicitly
    settings = load_settings({"PARTSBOT_ENV": "development", "PARTSBOT_TEAMS": "1"}, env_file=None)
    adapter = build_teams_adapter(bot, settings)
    assert isinstance(adapter, TeamsWebAdapter) and adapter.config.APP_ID == ""


def test_settings_from_the_environment_reach_botbuilder(make_bot: Any) -> None:
    environ = {
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": "pw",
        "MICROSOFT_APP_TYPE": "SingleTenant",
        "MICROSOFT_APP_TENANT_ID": "tenant-x",
    }
    settings = load_settings(environ, env_file=None)
    adapter = build_teams_adapter(make_bot(), settings)
    assert adapter is not None
    assert (adapter.config.APP_ID, adapter.config.APP_PASSWORD, adapter.config.APP_TYPE) == (
        APP_ID,
        "pw",
        "SingleTenant",
    )
    assert adapter.config.APP_TENANTID == "tenant-x"
