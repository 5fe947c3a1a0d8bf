"""Socket Mode: Slack sends events over a WebSocket that Partsbot opens (``SLACK_APP_TOKEN``, ``xapp-…``).

No public URL is needed, which is how a kindergarten or a developer tries Partsbot from a laptop. Requests
arrive through the same bolt app and listeners as over HTTP; Slack authenticates the connection with the
app-level token, so there is no request signature to check on this path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.core import Partsbot
from bot.settings import Settings

log = logging.getLogger(__name__)

# Without the web server nobody else retries the outbox (bot.web does it every 5 s), so we do.
REDELIVER_EVERY = 5.0


class SocketModeConnection:
    def __init__(self, app: AsyncApp, app_token: str) -> None:
        self.handler = AsyncSocketModeHandler(app, app_token)

    async def open(self) -> None:
        # apps.connections.open goes through the app's client, so SLACK_API_URL applies here too.
        await self.handler.connect_async()
        log.info("Slack Socket Mode connected")

    async def close(self) -> None:
        await self.handler.close_async()


async def run_socket_mode(bot: Partsbot, settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Slack over Socket Mode alone, without the web server; runs until ``stop`` is set (or cancelled)."""
    from bot.adapters.slack.app import build_slack_adapter

    if not settings.slack_app_token:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    adapter = build_slack_adapter(bot, settings)
    if adapter is None:
        raise ValueError("Slack is not configured: SLACK_BOT_TOKEN (or SLACK_CLIENT_ID/SECRET) is missing")
    await adapter.start()
    stop = stop or asyncio.Event()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REDELIVER_EVERY)
            try:
                await bot.delivery.flush()
            except Exception:
                log.exception("redelivery round failed")
    finally:
        await adapter.stop()
