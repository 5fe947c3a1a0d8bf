"""The one web server: Slack and Teams on one aiohttp application, plus ``GET /healthz``.

Platform adapters add their own routes (``POST /slack/events``, the OAuth routes, ``POST /api/messages``)
through :class:`WebAdapter`; this module knows none of their SDKs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from aiohttp import web

from bot.core import Partsbot

log = logging.getLogger(__name__)

BOT_KEY = web.AppKey("partsbot", Partsbot)
# How often unprocessed inbox items and undelivered outbox items are retried (a crash, an outage, a 429).
REDELIVER_EVERY = 5.0
# How long a shutdown waits for acknowledged requests still being processed (the rest stay in the inbox).
DRAIN_SECONDS = 10.0


class WebAdapter(Protocol):
    def add_routes(self, app: web.Application) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Service(Protocol):
    """Something that runs beside the server while it is up (the course scheduler)."""

    def start(self) -> None: ...

    def shutdown(self) -> None: ...


async def healthz(request: web.Request) -> web.Response:
    bot = request.app[BOT_KEY]
    healthy = await asyncio.to_thread(bot.db.ping)
    if not healthy:
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok"})


async def _redeliver_forever(bot: Partsbot) -> None:
    """Process what the inbox holds unprocessed (a crash, another replica's crash, a failed attempt) and send
    what the outbox holds undelivered – at start, then every few seconds."""
    while True:
        try:
            await bot.inbox.recover()
        except Exception:
            log.exception("inbox recovery round failed")
        try:
            await bot.delivery.flush()
        except Exception:
            log.exception("redelivery round failed")
        await asyncio.sleep(REDELIVER_EVERY)


def build_app(
    bot: Partsbot,
    adapters: list[WebAdapter],
    *,
    redeliver: bool = True,
    services: list[Service] | None = None,
) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[BOT_KEY] = bot
    app.router.add_get("/healthz", healthz)
    for adapter in adapters:
        adapter.add_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        started: list[WebAdapter] = []
        running: list[Service] = []
        task: asyncio.Task[None] | None = None
        try:
            for adapter in adapters:
                await adapter.start()
                started.append(adapter)
            for service in services or ():
                service.start()
                running.append(service)
            task = asyncio.create_task(_redeliver_forever(bot)) if redeliver else None
            yield
        finally:
            # Stop what did start, also when a later adapter or service failed to.
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for service in reversed(running):
                service.shutdown()
            for adapter in reversed(started):
                await adapter.stop()
            await bot.inbox.drain(DRAIN_SECONDS)

    app.cleanup_ctx.append(lifecycle)
    return app
