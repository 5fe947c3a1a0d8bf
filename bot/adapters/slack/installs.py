"""Workspace installs: bolt's SQLAlchemy installation and OAuth state stores, on our database.

Bolt ships synchronous SQLAlchemy stores and asyncio ones that need an async engine (another driver per
database). Our database is synchronous, so the async interface bolt's ``AsyncApp`` wants is provided here by
running the synchronous stores in a worker thread. The tables are the ones declared in
:mod:`bot.adapters.slack.models` (bolt's own definitions on our metadata), so migrations cover them.

Which token sends to a workspace (:class:`TokenSource`): the one ``SLACK_BOT_TOKEN`` for a single workspace,
or the installation store's latest bot token when workspaces install through OAuth.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import delete

from bot.adapters.slack.models import slack_bots, slack_installations, slack_oauth_states
from bot.crypto import Box
from bot.storage.db import Database

log = logging.getLogger(__name__)
_sdk_log = logging.getLogger("slack_sdk.oauth.partsbot")

# Slack: "state" is good for 10 minutes.
STATE_EXPIRATION_SECONDS = 600
# How long a looked-up bot token is reused before asking the database again. An uninstall clears it at once.
TOKEN_CACHE_SECONDS = 300.0


_INSTALLATION_TOKENS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
_BOT_TOKENS = ("bot_token", "bot_refresh_token")
T = TypeVar("T", Installation, Bot)


def _with_tokens(item: T, names: tuple[str, ...], change: Callable[[str | None], str | None]) -> T:
    """A copy of ``item`` with its token fields passed through ``change`` (bolt's objects stay untouched)."""
    changed = copy.copy(item)
    for name in names:
        if hasattr(changed, name):
            setattr(changed, name, change(getattr(changed, name)))
    return changed


class InstallationStore(AsyncInstallationStore):
    """Bolt's ``SQLAlchemyInstallationStore`` on our engine and tables, awaited from a worker thread.

    Tokens are encrypted before they reach the database and decrypted when read (``PARTSBOT_SECRET_KEY``,
    :mod:`bot.crypto`): the tokens can read every channel and direct message the bot is in (SEC-05).
    """

    def __init__(self, db: Database, client_id: str, box: Box | None = None) -> None:
        self.box = box or Box("")
        # A slack_sdk logger, so the library caps of bot/logs.py apply to what the store logs.
        store = SQLAlchemyInstallationStore(client_id=client_id, engine=db.engine, logger=_sdk_log)
        # Use the tables registered on Base.metadata (same definitions) rather than the store's private copy.
        store.metadata = slack_installations.metadata
        store.installations = slack_installations
        store.bots = slack_bots
        self.sync = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        sealed = _with_tokens(installation, _INSTALLATION_TOKENS, self.box.seal)
        await asyncio.to_thread(self.sync.save, sealed)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.sync.save_bot, _with_tokens(bot, _BOT_TOKENS, self.box.seal))

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        found = await asyncio.to_thread(
            self.sync.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return _with_tokens(found, _BOT_TOKENS, self.box.open) if found is not None else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = await asyncio.to_thread(
            self.sync.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return _with_tokens(found, _INSTALLATION_TOKENS, self.box.open) if found is not None else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self.sync.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            self.sync.delete_installation, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)


class OAuthStateStore(AsyncOAuthStateStore):
    """Bolt's ``SQLAlchemyOAuthStateStore`` on our engine: a replica other than the one that issued the
    state can finish the install, and a state is good for one use within ten minutes."""

    def __init__(self, db: Database, expiration_seconds: int = STATE_EXPIRATION_SECONDS) -> None:
        store = SQLAlchemyOAuthStateStore(
            expiration_seconds=expiration_seconds, engine=db.engine, logger=_sdk_log
        )
        store.metadata = slack_oauth_states.metadata
        store.oauth_states = slack_oauth_states
        self.sync = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self._issue)

    def _issue(self) -> str:
        # bolt deletes a state only when it is used: states of abandoned installs would pile up, one per
        # unauthenticated GET /slack/install (SEC-17). Expired ones go whenever a new one is issued.
        with self.sync.engine.begin() as conn:
            conn.execute(
                delete(slack_oauth_states).where(
                    slack_oauth_states.c.expire_at < normalize_datetime_for_db(datetime.now(UTC))
                )
            )
        return self.sync.issue()

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.sync.consume, state)


class TokenSource:
    """The bot token for a workspace: the static one, or the installed one (cached briefly)."""

    def __init__(self, *, static_token: str = "", store: InstallationStore | None = None) -> None:
        self.static_token = static_token
        self.store = store
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def token_for(self, workspace: str) -> str | None:
        if self.store is None:
            return self.static_token or None
        cached = self._cache.get(workspace)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        bot = await self.store.async_find_bot(enterprise_id=None, team_id=workspace)
        token = bot.bot_token if bot is not None else None
        self._cache[workspace] = (time.monotonic() + TOKEN_CACHE_SECONDS, token)
        return token

    def forget(self, workspace: str) -> None:
        """After an uninstall, a revoked token or ``invalid_auth``: look again next time."""
        self._cache.pop(workspace, None)


class RateLimit:
    """At most ``per_client`` requests per client address and ``overall`` in total within ``window``
    seconds (per replica): enough for people installing the app, not for filling the state table."""

    def __init__(self, per_client: int = 10, overall: int = 120, window: float = 60.0) -> None:
        self.per_client, self.overall, self.window = per_client, overall, window
        self._seen: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def allow(self, client: str, now: float | None = None) -> bool:
        moment = time.monotonic() if now is None else now
        mine = self._seen.setdefault(client, deque())
        for queue in (mine, self._all):
            while queue and queue[0] <= moment - self.window:
                queue.popleft()
        if len(mine) >= self.per_client or len(self._all) >= self.overall:
            return False
        mine.append(moment)
        self._all.append(moment)
        if len(self._seen) > 10_000:  # forget idle clients rather than grow without bound
            self._seen = {k: v for k, v in self._seen.items() if v}
        return True
