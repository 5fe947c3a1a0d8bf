"""Whether Teams is wanted – answerable without importing botbuilder (a Slack-only server never does)."""

from __future__ import annotations

from bot.settings import Settings

_TRUE = ("1", "true", "yes", "on")


def teams_requested(settings: Settings) -> bool:
    """Teams is wanted when an app id is configured, or (for local trials) ``PARTSBOT_TEAMS=1``."""
    return bool(settings.microsoft_app_id) or settings.extra.get("PARTSBOT_TEAMS", "").lower() in _TRUE
