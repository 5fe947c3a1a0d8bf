"""``partsbot serve``: the web server with every configured platform (and Slack Socket Mode)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core import Partsbot
from bot.settings import Settings, SettingsError
from bot.web import WebAdapter, build_app

log = logging.getLogger(__name__)


def adapters_for(bot: Partsbot, settings: Settings) -> list[WebAdapter]:
    from bot.adapters.slack import build_slack_adapter
    from bot.adapters.teams import build_teams_adapter

    adapters: list[WebAdapter] = []
    slack = build_slack_adapter(bot, settings)
    if slack is not None:
        adapters.append(slack)
    teams = build_teams_adapter(bot, settings)
    if teams is not None:
        adapters.append(teams)
    return adapters


def serve(settings: Settings, bot: Partsbot) -> int:
    adapters = adapters_for(bot, settings)
    if not adapters and settings.env == "production":
        raise SettingsError("no platform is configured; see .env.example")
    from bot.course.scheduler import build_scheduler

    # Nudges, check-ins and summaries; on PostgreSQL only the replica holding the advisory lock sends.
    app = build_app(bot, adapters, services=[build_scheduler(bot)])
    log.info(
        "serving on %s:%s (slack: %s, teams: %s)",
        settings.host,
        settings.port,
        settings.slack_configured,
        settings.teams_configured,
    )
    web.run_app(app, host=settings.host, port=settings.port, print=None)
    return 0
