"""Who a Slack user is: display name, locale and admin flag from ``users.info``, remembered for an hour.

A ``user_change`` event refreshes a remembered person; nothing here is stored in the database.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bot.adapters.slack.messenger import SlackMessenger
from bot.chat.messenger import DeliveryError
from bot.chat.model import Actor

log = logging.getLogger(__name__)

# users.info answers are reused this long: names and locales change rarely.
PEOPLE_CACHE_SECONDS = 3600.0


class People:
    """Display names and locales from ``users.info``; falls back to what the payload said."""

    def __init__(self, messenger: SlackMessenger) -> None:
        self.messenger = messenger
        self._cache: dict[tuple[str, str], tuple[float, Actor]] = {}
        self._pruned_at = time.monotonic()

    async def actor(self, workspace: str, user_id: str, fallback_name: str = "") -> Actor:
        key = (workspace, user_id)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            response = await self.messenger.call(
                workspace, "users.info", lambda c: c.users_info(user=user_id, include_locale=True)
            )
        except DeliveryError as exc:
            log.info("users.info for %s failed (%s); using the name Slack sent", user_id, exc)
            return Actor(user_id, fallback_name)
        actor = _actor_of(user_id, response.get("user") or {}, fallback_name)
        now = time.monotonic()
        if now >= self._pruned_at + PEOPLE_CACHE_SECONDS:
            # Forget who was not seen for an hour: the cache holds the people of the last hour, not
            # everyone a large workspace ever had.
            self._pruned_at = now
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        self._cache[key] = (now + PEOPLE_CACHE_SECONDS, actor)
        return actor

    def changed(self, workspace: str, user: dict[str, Any]) -> None:
        """A ``user_change`` event: a person we remember is remembered as they are now (name, admin)."""
        key = (workspace, str(user.get("id") or ""))
        if key in self._cache:
            actor = _actor_of(key[1], user, self._cache[key][1].display_name)
            self._cache[key] = (time.monotonic() + PEOPLE_CACHE_SECONDS, actor)


def _actor_of(user_id: str, user: dict[str, Any], fallback_name: str) -> Actor:
    """A person as ``users.info`` (or a ``user_change`` event) describes them."""
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or fallback_name
    admin = bool(user.get("is_admin") or user.get("is_owner"))
    return Actor(user_id, str(name or ""), user.get("locale"), is_admin=admin)
