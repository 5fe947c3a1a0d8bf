"""Microsoft Teams: botbuilder's CloudAdapter on the shared web server, Adaptive Cards, proactive sends.

Every ``botbuilder``/``botframework`` import of the project lives in this package, so that the archived
botbuilder-python can be replaced (Microsoft 365 Agents SDK) without touching handlers or the core.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.adapters.teams.adapter import TeamsWebAdapter, build_teams_adapter, teams_requested

__all__ = ["TeamsWebAdapter", "build_teams_adapter", "teams_requested"]


def __getattr__(name: str) -> Any:
    # botbuilder and msrest are imported on first use, not when a Slack-only server asks whether Teams is
    # configured (bot.adapters.teams.config): they cost about 30 MB.
    if name in __all__:
        from bot.adapters.teams import adapter

        return getattr(adapter, name)
    raise AttributeError(name)
