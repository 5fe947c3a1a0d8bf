"""Partsbot in Slack (bolt for Python): ``app`` wires it, ``events`` translates payloads into neutral events,
``render`` builds Block Kit, ``messenger`` sends, ``home`` is the App Home tab, ``installs`` the workspace
installs, ``socket_mode`` the WebSocket alternative to HTTP. Requests go through the inbox
(:mod:`bot.chat.inbox`) before they are acknowledged.

``partsbot serve`` needs only :func:`build_slack_adapter` (``None`` when Slack is not configured).
"""

from bot.adapters.slack.app import SlackWebAdapter, build_slack_adapter
from bot.adapters.slack.socket_mode import run_socket_mode

__all__ = ["SlackWebAdapter", "build_slack_adapter", "run_socket_mode"]
