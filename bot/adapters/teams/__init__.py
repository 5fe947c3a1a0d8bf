"""Microsoft Teams: botbuilder's CloudAdapter on the shared web server, Adaptive Cards, proactive sends.

Every ``botbuilder``/``botframework`` import of the project lives in this package, so that the archived
botbuilder-python can be replaced (Microsoft 365 Agents SDK) without touching handlers or the core.
"""

from bot.adapters.teams.adapter import TeamsWebAdapter, build_teams_adapter, teams_requested

__all__ = ["TeamsWebAdapter", "build_teams_adapter", "teams_requested"]
