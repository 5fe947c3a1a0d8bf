"""Microsoft Teams on Partsbot's one web server: ``POST /api/messages`` through botbuilder's CloudAdapter.

botbuilder-python is archived upstream, so every botbuilder import lives in this folder
(``bot/adapters/teams/``); swapping it for the Microsoft 365 Agents SDK later touches nothing else.

Authentication: with ``MICROSOFT_APP_ID`` set, botbuilder validates each request's JWT (issuer, audience =
app id, signing keys from the Bot Framework OpenID metadata, ``serviceurl`` claim). It answers 500 when a
token cannot even be decoded and lets other validation errors escape as exceptions; here every token it
cannot validate is a 401, and validation runs off the event loop because botbuilder fetches the signing
keys with blocking ``requests`` calls. With an empty app id botbuilder accepts anonymous requests – allowed
only in development and tests, never with ``PARTSBOT_ENV=production``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import requests
from aiohttp import web
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity

# Re-exported so that tests can point token validation at their own signing keys
# (``ChannelValidation.open_id_metadata_endpoint``) without importing botbuilder themselves.
from botframework.connector.auth import ChannelValidation, ServiceClientCredentialsFactory
from msrest.universal_http.requests import ClientRetryPolicy
from urllib3.util.retry import Retry

from bot.adapters.teams.activities import RAW_BODY, TeamsTurns
from bot.adapters.teams.config import teams_requested
from bot.adapters.teams.messenger import TeamsMessenger
from bot.adapters.teams.ratelimit import ConversationRateLimiter
from bot.adapters.teams.references import ReferenceStore
from bot.core import Partsbot
from bot.crypto import Box
from bot.settings import Settings, SettingsError

__all__ = ["ChannelValidation", "TeamsWebAdapter", "build_teams_adapter", "teams_requested"]

log = logging.getLogger(__name__)

ROUTE = "/api/messages"
# How long stop() lets deliveries that are already under way finish before cancelling them.
STOP_GRACE = 5.0


@dataclass(frozen=True)
class BotConfig:
    """The configuration object botbuilder's ``ConfigurationBotFrameworkAuthentication`` reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


class KeysUnavailable(Exception):
    """The Bot Framework signing keys could not be fetched: our outage, not the caller's fault (503)."""


class _CachedCredentials(ServiceClientCredentialsFactory):
    """botbuilder makes new credentials – and fetches a new Entra ID token – for every connector it
    creates; one credentials object per app id and audience lets MSAL's token cache work."""

    def __init__(self, inner: ServiceClientCredentialsFactory) -> None:
        self._inner = inner
        self._cache: dict[tuple[str, str, str, bool], Any] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self._inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self._inner.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        key = (app_id or "", oauth_scope or "", login_endpoint or "", bool(validate_authority))
        if key not in self._cache:
            self._cache[key] = await self._inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
        return self._cache[key]


def _run_isolated(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coroutine)


class _StrictAuthentication(ConfigurationBotFrameworkAuthentication):
    """botbuilder's authentication with two fixes: any token it cannot validate is a PermissionError (→ 401),
    and validation runs in a worker thread with its own event loop (botbuilder's key fetch blocks)."""

    def __init__(self, config: BotConfig, credentials: ServiceClientCredentialsFactory) -> None:
        super().__init__(config, credentials_factory=credentials)
        self._anonymous = not config.APP_ID

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        if self._anonymous and not auth_header:
            return await super().authenticate_request(activity, auth_header)
        inner = super().authenticate_request(activity, auth_header)
        try:
            return await asyncio.to_thread(_run_isolated, inner)
        except PermissionError:
            raise
        except requests.RequestException as exc:
            raise KeysUnavailable(f"Bot Framework signing keys unavailable: {exc}") from exc
        except Exception as exc:
            # A token that does not decode, has a wrong signature, an unknown key id, or is expired.
            raise PermissionError(f"token rejected: {type(exc).__name__}: {exc}") from exc


# msrest works out the retry codes of every ConnectorClient by testing range(999) against a 500-element list
# (half a million comparisons, about 10 ms), and botbuilder makes a ConnectorClient for every incoming turn
# and every send: half the CPU time of a Teams message (profiled under the bench load). A set gives the same
# codes at once (and msrest's retries are switched off anyway, see _without_msrest_retries).
ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


def _without_msrest_retries(client: Any) -> Any:
    """msrest retries refused connections (with seconds of sleep in a worker thread) and, for PUT, 429 and
    5xx on its own, hiding the status and Retry-After from us; the messenger retries by Teams' rules instead.
    The policy is copied into the requests session when the client is built, so set it there too."""
    policy = Retry(
        total=0, connect=0, read=0, status_forcelist=(), raise_on_status=False, raise_on_redirect=False
    )
    client.config.retry_policy.policy = policy
    driver = getattr(getattr(client.config.pipeline, "_sender", None), "driver", None)
    session = getattr(driver, "session", None)
    if session is None:
        log.warning("could not switch off msrest's retries: the ConnectorClient's layout changed")
        return client
    for http_adapter in session.adapters.values():
        http_adapter.max_retries = policy
    return client


def check_settings(settings: Settings, *, allow_anonymous: bool) -> None:
    """Refuse configurations that would run Teams insecurely or not at all."""
    if not settings.microsoft_app_id:
        if settings.env == "production":
            raise SettingsError(
                "PARTSBOT_ENV=production needs MICROSOFT_APP_ID for Teams: without it every request "
                "to /api/messages would be accepted unauthenticated"
            )
        if not allow_anonymous:
            raise SettingsError("MICROSOFT_APP_ID is empty: Teams needs the bot's app id")
    if (
        settings.env == "production"
        and settings.microsoft_app_type != "UserAssignedMSI"
        and not settings.microsoft_app_password
    ):
        raise SettingsError("MICROSOFT_APP_PASSWORD is empty: the bot could not answer in Teams")


class TeamsWebAdapter:
    """``add_routes`` / ``start`` / ``stop`` for :func:`bot.web.build_app`; registers the Teams messenger."""

    def __init__(
        self,
        bot: Partsbot,
        settings: Settings | None = None,
        *,
        allow_anonymous: bool = False,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        limiter: ConversationRateLimiter | None = None,
        backoff_base: float = 0.5,
    ) -> None:
        self.bot = bot
        self.settings = settings or bot.settings
        check_settings(self.settings, allow_anonymous=allow_anonymous)
        self.config = BotConfig(
            APP_ID=self.settings.microsoft_app_id,
            APP_PASSWORD=self.settings.microsoft_app_password,
            APP_TYPE=self.settings.microsoft_app_type,
            APP_TENANTID=self.settings.microsoft_app_tenant_id,
        )
        credentials = _CachedCredentials(ConfigurationServiceClientCredentialFactory(self.config))
        self.authentication = _StrictAuthentication(self.config, credentials)
        self.cloud = CloudAdapter(self.authentication)
        self.references = ReferenceStore(bot.db, Box(self.settings.secret_key))
        self.messenger = TeamsMessenger(
            self.settings,
            self.references,
            self._connector,
            limiter=limiter,
            sleep=sleep,
            backoff_base=backoff_base,
        )
        self.turns = TeamsTurns(bot, self.messenger, self.references, self._spawn)
        self._tasks: set[asyncio.Task[None]] = set()
        bot.add_messenger(self.messenger)
        # Without an app id nothing is authenticated: the server then listens on loopback only (server.py).
        self.loopback_only = not self.config.APP_ID
        if not self.config.APP_ID:
            log.warning("Teams authentication is OFF (no MICROSOFT_APP_ID): for development and tests only")

    # WebAdapter ------------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self.messages)

    async def start(self) -> None:
        log.info("Teams listening on %s (app id %s)", ROUTE, self.config.APP_ID or "none, anonymous")

    async def stop(self) -> None:
        """Let deliveries under way finish briefly; what is cut off stays in the outbox for next time."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # The route -------------------------------------------------------------------------------------

    async def messages(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "body is not JSON"}, status=400)
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            return web.json_response({"error": "body is not an Activity"}, status=400)
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return web.json_response({"error": "body is not an Activity"}, status=400)
        # The inbox stores the body as it came: botbuilder's serialize() loses what it has no field for
        # (a mention's ``mentioned`` id, among others).
        setattr(activity, RAW_BODY, body)
        auth_header = request.headers.get("Authorization", "")
        try:
            invoke = await self.cloud.process_activity(auth_header, activity, self.turns.on_turn)
        except PermissionError as exc:
            log.warning("refused a request to %s from %s: %s", ROUTE, request.remote, exc)
            return web.json_response({"error": "unauthorized"}, status=401)
        except KeysUnavailable as exc:
            log.error("%s", exc)
            return web.json_response({"error": "authentication temporarily unavailable"}, status=503)
        except Exception:
            log.exception("Teams %s activity failed", activity.type)
            return web.json_response({"error": "internal error"}, status=500)
        if invoke is not None:
            payload = invoke.body if invoke.body is not None else {}
            return web.Response(
                status=invoke.status or 200, text=json.dumps(payload), content_type="application/json"
            )
        return web.Response(status=200)

    # Helpers ---------------------------------------------------------------------------------------

    async def _connector(self, service_url: str) -> Any:
        """A ConnectorClient for ``service_url`` with the bot's credentials (what ``continue_conversation``
        builds internally), minus msrest's own retries."""
        claims = self.cloud.create_claims_identity(self.config.APP_ID)
        factory = self.authentication.create_connector_factory(claims)
        return _without_msrest_retries(await factory.create(service_url, None))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._guarded(coroutine))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(coroutine: Coroutine[Any, Any, None]) -> None:
        try:
            await coroutine
        except Exception:
            # Delivery failures stay in the outbox and are retried by the server's redelivery loop.
            log.exception("Teams background delivery failed")

    async def drain(self) -> None:
        """Wait for background deliveries (tests, and a graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)


def build_teams_adapter(bot: Partsbot, settings: Settings | None = None) -> TeamsWebAdapter | None:
    """The Teams adapter for ``partsbot serve``, or None when Teams is not configured.

    Raises :class:`SettingsError` when Teams is requested (``PARTSBOT_TEAMS=1``) without an app id in
    production. Without an app id in development, ``PARTSBOT_TEAMS=1`` serves Teams unauthenticated (for
    the Bot Framework Emulator or a tunnel to a test tenant).
    """
    settings = settings or bot.settings
    if not teams_requested(settings):
        return None
    return TeamsWebAdapter(bot, settings, allow_anonymous=settings.env != "production")
