"""Partsbot in Slack (bolt for Python): ``app`` wires it, ``events`` translates payloads into neutral events,
``render`` builds Block Kit, ``messenger`` sends, ``home`` is the App Home tab, ``installs`` the workspace
installs, ``socket_mode`` the WebSocket alternative to HTTP. Requests go through the inbox
(:mod:`bot.chat.inbox`) before they are acknowledged.

``partsbot serve`` needs only :func:`build_slack_adapter` (``None`` when Slack is not configured).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.adapters.slack.app import SlackWebAdapter, build_slack_adapter

if TYPE_CHECKING:
    from bot.core import Partsbot
    from bot.settings import Settings

__all__ = ["SlackWebAdapter", "build_slack_adapter", "run_socket_mode"]


async def run_socket_mode(bot: Partsbot, settings: Settings, stop: asyncio.Event | None = None) -> None:
    """:func:`bot.adapters.slack.socket_mode.run_socket_mode`, whose modules load only when it is used."""
    from bot.adapters.slack.socket_mode import run_socket_mode as run

    await run(bot, settings, stop)
