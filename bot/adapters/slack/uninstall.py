"""A workspace that removed Partsbot or revoked its tokens: the tokens are deleted at once, and the
workspace's data is scheduled for deletion after a grace period (a reinstall keeps everything)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from bot.adapters.slack.installs import InstallationStore, TokenSource
from bot.adapters.slack.requests import Meta
from bot.core import Partsbot
from bot.storage import personal

log = logging.getLogger(__name__)


class Uninstalls:
    def __init__(self, bot: Partsbot, tokens: TokenSource, installations: InstallationStore | None) -> None:
        self.bot = bot
        self.tokens = tokens
        self.installations = installations

    async def app_uninstalled(self, body: dict[str, Any], meta: Meta) -> None:
        workspace = str(meta.team_id or body.get("team_id") or "")
        enterprise = meta.enterprise_id
        if self.installations is not None:
            await self.installations.async_delete_all(enterprise_id=enterprise, team_id=workspace)
        self.tokens.forget(workspace)
        when = await asyncio.to_thread(self._schedule_deletion, workspace)
        # The workspace's data is kept for a grace period (a reinstall keeps everything), then deleted.
        log.warning(
            "Partsbot was removed from Slack workspace %s; its tokens are deleted, its data will be deleted "
            "after %s unless it is installed again",
            workspace,
            when.isoformat() if when else "-",
        )

    def _schedule_deletion(self, workspace: str) -> datetime | None:
        with self.bot.db.transaction() as session:
            return personal.schedule_deletion(session, "slack", workspace, self.bot.clock())

    async def tokens_revoked(self, body: dict[str, Any], event: dict[str, Any], meta: Meta) -> None:
        workspace = str(meta.team_id or body.get("team_id") or "")
        enterprise = meta.enterprise_id
        tokens = event.get("tokens") or {}
        if self.installations is not None:
            for user_id in tokens.get("oauth") or []:
                await self.installations.async_delete_installation(
                    enterprise_id=enterprise, team_id=workspace, user_id=user_id
                )
            if tokens.get("bot"):
                await self.installations.async_delete_bot(enterprise_id=enterprise, team_id=workspace)
        self.tokens.forget(workspace)
        log.warning("Slack tokens revoked in workspace %s: %s", workspace, sorted(tokens))
