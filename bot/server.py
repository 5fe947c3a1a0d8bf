"""``partsbot serve``: the web server with every configured platform (and Slack Socket Mode)."""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import sys

from aiohttp import web

from bot.core import Partsbot
from bot.settings import Settings, SettingsError
from bot.web import WebAdapter, build_app

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "::1", "localhost")
# glibc's mallopt parameter for the most malloc arenas, and how many the server allows itself.
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def adapters_for(bot: Partsbot, settings: Settings) -> list[WebAdapter]:
    from bot.adapters.teams.config import teams_requested

    adapters: list[WebAdapter] = []
    if (
        settings.slack_configured
        or settings.slack_bot_token
        or settings.slack_client_id
        or settings.slack_app_token
    ):
        from bot.adapters.slack import build_slack_adapter

        slack = build_slack_adapter(bot, settings)
        if slack is not None:
            adapters.append(slack)
    if teams_requested(settings):
        # botbuilder only when Teams is wanted: a Slack-only server stays without it.
        from bot.adapters.teams import build_teams_adapter

        teams = build_teams_adapter(bot, settings)
        if teams is not None:
            adapters.append(teams)
    return adapters


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Let the C allocator keep at most ``arenas`` arenas instead of one per thread that ever allocated.

    glibc gives threads their own malloc arena (up to eight per core), and memory freed in one is kept for
    that arena: the worker threads that handle events (SQLite's page cache, large Python objects) each
    held a megabyte or two of mostly free memory. Python's GIL leaves little contention for the arenas to
    avoid. Must run before the first worker thread allocates; an operator's ``MALLOC_ARENA_MAX`` wins. Only
    on glibc (``False`` elsewhere, and when it was not applied)."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def serve(settings: Settings, bot: Partsbot) -> int:
    cap_malloc_arenas()
    adapters = adapters_for(bot, settings)
    if not adapters and settings.env == "production":
        raise SettingsError("no platform is configured; see .env.example")
    from bot.course.scheduler import build_scheduler
    from bot.storage.checkpoints import WalCheckpoints

    # Nudges, check-ins and summaries; on PostgreSQL only the replica holding the advisory lock sends.
    # SQLite's checkpoints run beside the server, not inside a command's commit.
    app = build_app(bot, adapters, services=[WalCheckpoints(bot.db), build_scheduler(bot)])
    host = bind_address(settings, adapters)
    log.info(
        "serving on %s:%s (slack: %s, teams: %s)",
        host,
        settings.port,
        settings.slack_configured,
        settings.teams_configured,
    )
    # What is loaded by now (modules, mappers, texts, the adapters) lives as long as the process: moved out
    # of the collector's sight, it is not walked again by every full collection, which kept the slowest
    # answers under load longer than they need be.
    gc.freeze()
    web.run_app(app, host=host, port=settings.port, print=None)
    return 0


def bind_address(settings: Settings, adapters: list[WebAdapter]) -> str:
    """Where to listen: ``PARTSBOT_HOST``, except that an adapter accepting unauthenticated requests
    (Teams without an app id) keeps the server on the loopback interface, whatever ``PARTSBOT_ENV`` or
    ``PARTSBOT_HOST`` say – a copied ``.env`` must not open it to the network (SEC-04)."""
    if any(getattr(adapter, "loopback_only", False) for adapter in adapters):
        if settings.host not in LOOPBACK:
            log.warning(
                "Teams runs without authentication (no MICROSOFT_APP_ID): listening on 127.0.0.1 only, "
                "not on %s",
                settings.host,
            )
        return settings.host if settings.host in LOOPBACK else "127.0.0.1"
    return settings.host
