"""Partsbot in Slack: the bolt ``AsyncApp``, its routes on our one aiohttp server, and Socket Mode.

``build_slack_adapter(bot, settings)`` is what ``partsbot serve`` calls. It returns a :class:`SlackWebAdapter`
(``add_routes``, ``start``, ``stop`` for :func:`bot.web.build_app`), or ``None`` when Slack is not configured.

* One workspace: ``SLACK_BOT_TOKEN`` (+ ``SLACK_SIGNING_SECRET``).
* Many workspaces: ``SLACK_CLIENT_ID`` + ``SLACK_CLIENT_SECRET`` turn on ``GET /slack/install`` and
  ``GET /slack/oauth_redirect``; tokens live in bolt's installation tables in our database.
* ``SLACK_APP_TOKEN`` (``xapp-…``) adds Socket Mode: Slack sends events over a WebSocket we open, so no
  public URL is needed. ``POST /slack/events`` still exists when a signing secret is set.

Requests to ``POST /slack/events`` are always signature-checked by bolt (``v0`` HMAC, five-minute window);
there is no setting that turns that off.
"""

from __future__ import annotations

import asyncio
import html
import logging
import secrets
from typing import TYPE_CHECKING

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse

from bot.adapters.slack.client import web_client
from bot.adapters.slack.events import SlackEvents
from bot.adapters.slack.installs import (
    STATE_EXPIRATION_SECONDS,
    InstallationStore,
    OAuthStateStore,
    RateLimit,
    TokenSource,
)
from bot.adapters.slack.messenger import POST_INTERVAL, SlackMessenger
from bot.adapters.slack.requests import BackgroundTasks
from bot.core import Partsbot
from bot.crypto import Box
from bot.i18n import t
from bot.settings import Settings
from bot.storage import personal
from bot.storage.db import Database

if TYPE_CHECKING:
    from bot.adapters.slack.socket_mode import SocketModeConnection

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# Bot scopes requested at install; the same list as apps/slack/manifest.yaml (a test compares them), where
# each one is justified.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "users:read",
    "files:write",
    "channels:history",
    "groups:history",
    "im:history",
)
# How long stop() waits for work that was acknowledged but is still running.
DRAIN_SECONDS = 10.0


def _plain_signature_headers(request: web.Request) -> bool:
    """Exactly one signature and one whole-number timestamp. bolt checks only the first of repeated headers
    and answers a timestamp that is not a number with a 500; both are a 401 here."""
    signatures = request.headers.getall("X-Slack-Signature", [])
    timestamps = request.headers.getall("X-Slack-Request-Timestamp", [])
    if len(signatures) != 1 or len(timestamps) != 1:
        return False
    return timestamps[0].strip().isascii() and timestamps[0].strip().isdigit()


def _page(title: str, text: str, status: int) -> BoltResponse:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:40em;margin:3em auto'><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(text)}</p></body></html>"
    )
    return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})


def _callback_options(language: str, db: Database) -> AsyncCallbackOptions:
    def keep(team_id: str) -> bool:
        with db.transaction() as session:
            return personal.cancel_deletion(session, "slack", team_id)

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        team = args.installation.team_name or args.installation.team_id or ""
        log.info("Partsbot installed in Slack workspace %s", args.installation.team_id)
        # Installed again within the grace period after an uninstall: the data stays.
        team_id = str(args.installation.team_id or "")
        kept: bool = await asyncio.to_thread(keep, team_id) if team_id else False
        if kept:
            log.info("Slack workspace %s installed again: its data is no longer deleted", team_id)
        return _page(
            t(language, "slack.install.ok_title"), t(language, "slack.install.ok_text", team=team), 200
        )

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        log.warning("Slack install failed: %s", args.reason)
        return _page(
            t(language, "slack.install.failed_title"),
            t(language, "slack.install.failed_text"),
            args.suggested_status_code,
        )

    return AsyncCallbackOptions(success=success, failure=failure)


class SlackWebAdapter:
    """Slack on the shared aiohttp server (and over Socket Mode when an app token is set)."""

    def __init__(self, bot: Partsbot, settings: Settings, *, post_interval: float = POST_INTERVAL) -> None:
        self.bot = bot
        self.settings = settings
        self.install_limit = RateLimit()
        self.installations = (
            InstallationStore(bot.db, settings.slack_client_id, Box(settings.secret_key))
            if settings.slack_oauth
            else None
        )
        if self.installations is not None and settings.slack_bot_token:
            log.info("Slack OAuth is configured: SLACK_BOT_TOKEN is not used; workspaces install the app")
        self.tokens = TokenSource(
            static_token="" if self.installations is not None else settings.slack_bot_token,
            store=self.installations,
        )
        self.messenger = SlackMessenger(
            bot.db,
            self.tokens,
            base_url=settings.slack_api_url,
            language=settings.language,
            post_interval=post_interval,
        )
        bot.add_messenger(self.messenger)
        self.tasks = BackgroundTasks()
        self.app = self._bolt_app()
        self.events = SlackEvents(
            bot, self.messenger, tokens=self.tokens, installations=self.installations, tasks=self.tasks
        )
        self.events.register(self.app)
        self._socket: SocketModeConnection | None = None

    def _bolt_app(self) -> AsyncApp:
        settings = self.settings
        oauth_settings = None
        if self.installations is not None:
            oauth_settings = AsyncOAuthSettings(
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                scopes=list(BOT_SCOPES),
                user_scopes=[],
                install_path=INSTALL_PATH,
                redirect_uri_path=REDIRECT_PATH,
                # Straight to Slack's consent screen: the install link is shared by the municipality's IT.
                install_page_rendering_enabled=False,
                installation_store=self.installations,
                installation_store_bot_only=True,
                state_store=OAuthStateStore(self.bot.db),
                state_expiration_seconds=STATE_EXPIRATION_SECONDS,
                callback_options=_callback_options(settings.language, self.bot.db),
                logger=logging.getLogger("slack_bolt.oauth"),
            )
        # Without a signing secret (Socket Mode only) no HTTP route takes events; the random secret makes
        # sure an empty one can never verify a request that somehow reaches bolt.
        signing_secret = settings.slack_signing_secret or secrets.token_hex(32)
        client = web_client(settings.slack_api_url, None if oauth_settings else settings.slack_bot_token)
        return AsyncApp(
            name="partsbot",
            client=client,
            signing_secret=signing_secret,
            oauth_settings=oauth_settings,
            installation_store=self.installations,
            request_verification_enabled=True,
            # Every listener acknowledges within milliseconds (the work itself runs after the ack, from the
            # inbox), so bolt may await the listener and answer at once. With False it polls for the ack
            # every 10 ms, which added 10 ms to every command whose answer is in the ack.
            process_before_response=True,
            user_facing_authorize_error_message=t(settings.language, "slack.install_hint"),
            logger=logging.getLogger("slack_bolt"),
        )

    # WebAdapter ------------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        if self.settings.slack_signing_secret:
            app.router.add_post(EVENTS_PATH, self.handle_events)
        if self.app.oauth_flow is not None:
            app.router.add_get(INSTALL_PATH, self.handle_install)
            app.router.add_get(REDIRECT_PATH, self.handle_oauth_redirect)

    async def start(self) -> None:
        if self.settings.slack_app_token:
            # Socket Mode's modules (bolt's and slack_sdk's WebSocket clients) only when it is configured.
            from bot.adapters.slack.socket_mode import SocketModeConnection

            self._socket = SocketModeConnection(self.app, self.settings.slack_app_token)
            await self._socket.open()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
            self._socket = None
        await self.tasks.drain(DRAIN_SECONDS)
        await self.messenger.close()

    # Routes ----------------------------------------------------------------------------------------

    async def handle_events(self, request: web.Request) -> web.Response:
        if not _plain_signature_headers(request):
            log.warning(
                "refused a Slack request from %s: repeated or malformed signature headers", request.remote
            )
            return web.Response(status=401, text="invalid request")
        return await to_aiohttp_response(await self.app.async_dispatch(await to_bolt_request(request)))

    async def handle_install(self, request: web.Request) -> web.Response:
        if not self.install_limit.allow(request.remote or "?"):
            return web.Response(status=429, text="Too many requests; try again in a minute.")
        flow = self.app.oauth_flow
        assert flow is not None  # the route exists only with OAuth
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def handle_oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))


def build_slack_adapter(
    bot: Partsbot, settings: Settings, *, post_interval: float = POST_INTERVAL
) -> SlackWebAdapter | None:
    """The Slack adapter for ``partsbot serve``, or ``None`` when the environment does not configure Slack."""
    if not settings.slack_configured:
        if settings.slack_bot_token or settings.slack_client_id or settings.slack_app_token:
            log.warning(
                "Slack is half configured: set SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) "
                "next to SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs"
            )
        return None
    return SlackWebAdapter(bot, settings, post_interval=post_interval)
