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
import logging
import time
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.adapters.slack.models import slack_bots, slack_installations, slack_oauth_states
from bot.storage.db import Database

log = logging.getLogger(__name__)
_sdk_log = logging.getLogger("slack_sdk.oauth.partsbot")

# Slack: "state" is good for 10 minutes.
STATE_EXPIRATION_SECONDS = 600
# How long a looked-up bot token is reused before asking the database again. An uninstall clears it at once.
TOKEN_CACHE_SECONDS = 300.0


class InstallationStore(AsyncInstallationStore):
    """Bolt's ``SQLAlchemyInstallationStore`` on our engine and tables, awaited from a worker thread."""

    def __init__(self, db: Database, client_id: str) -> None:
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
        await asyncio.to_thread(self.sync.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.sync.save_bot, bot)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        return await asyncio.to_thread(
            self.sync.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await asyncio.to_thread(
            self.sync.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

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
        return await asyncio.to_thread(self.sync.issue)

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
