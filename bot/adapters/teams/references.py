"""Stored Teams ConversationReferences: how the bot writes into a conversation without an incoming request.

Every incoming Activity refreshes the reference of its conversation, so nudges, summaries and replies
delivered later from the outbox (possibly by another replica, or after a restart) know the service URL,
the tenant and the bot account. Scopes:

* ``channel:<conversation id>`` – a channel, group chat or personal chat (without ``;messageid=``)
* ``user:<Teams user id>`` – a person's personal chat with the bot, for :class:`~bot.chat.model.Direct`

Synchronous functions: callers run them in a worker thread, like every other database access.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.crypto import PREFIX, Box
from bot.i18n import normalise_language
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import ConversationReference, KeyValue, Member, Organisation, Unit

log = logging.getLogger(__name__)

PLATFORM = "teams"
CARD_SECRET_KEY = "teams.card_secret"
# How long a reference this process stored is taken as still stored (another replica may have refreshed it
# meanwhile with a newer one; then this process writes its own again at the latest after this long).
KNOWN_SECONDS = 300.0
KNOWN_MAX = 50_000


def channel_scope(conversation_id: str) -> str:
    return f"channel:{conversation_id}"


def user_scope(user_id: str) -> str:
    return f"user:{user_id}"


class ReferenceStore:
    def __init__(self, db: Database, box: Box | None = None) -> None:
        self.db = db
        # Encrypts the card key at rest (PARTSBOT_SECRET_KEY): with it, anyone could forge card clicks.
        self.box = box or Box("")
        # (workspace, scope) -> (the reference this process last stored or found, until when to trust that)
        self._known: dict[tuple[str, str], tuple[dict[str, Any], float]] = {}

    def save(self, workspace: str, scope: str, data: dict[str, Any]) -> None:
        """Insert or refresh a reference; unchanged references cost a read, not a write."""
        self.save_all(workspace, [(scope, data)])

    def save_all(self, workspace: str, references: list[tuple[str, dict[str, Any]]]) -> None:
        """Insert or refresh references in one transaction. One this process stored (or found) unchanged
        within the last minutes costs nothing: every message of a conversation carries the same one."""
        now = time.monotonic()
        fresh = [
            (scope, data) for scope, data in references if not self._known_now(workspace, scope, data, now)
        ]
        if not fresh:
            return
        for attempt in (1, 2):
            try:
                with self.db.transaction() as session:
                    for scope, data in fresh:
                        row = session.scalar(
                            select(ConversationReference).where(
                                ConversationReference.platform == PLATFORM,
                                ConversationReference.workspace == workspace,
                                ConversationReference.scope == scope,
                            )
                        )
                        if row is None:
                            session.add(
                                ConversationReference(
                                    platform=PLATFORM, workspace=workspace, scope=scope, data=data
                                )
                            )
                        elif row.data != data:
                            row.data = data
                break
            except IntegrityError:
                # Another replica stored the same conversation a moment ago; the second try updates it.
                if attempt == 2:
                    raise
        if len(self._known) > KNOWN_MAX:
            self._known.clear()
        for scope, data in fresh:
            self._known[(workspace, scope)] = (data, now + KNOWN_SECONDS)

    def _known_now(self, workspace: str, scope: str, data: dict[str, Any], now: float) -> bool:
        known = self._known.get((workspace, scope))
        return known is not None and known[1] > now and known[0] == data

    def get(self, workspace: str, scope: str) -> dict[str, Any] | None:
        with self.db.transaction() as session:
            data = session.scalar(
                select(ConversationReference.data).where(
                    ConversationReference.platform == PLATFORM,
                    ConversationReference.workspace == workspace,
                    ConversationReference.scope == scope,
                )
            )
            return dict(data) if data is not None else None

    def any_in(self, workspace: str) -> dict[str, Any] | None:
        """The freshest reference of a tenant: its service URL and bot account serve any new conversation."""
        with self.db.transaction() as session:
            data = session.scalar(
                select(ConversationReference.data)
                .where(
                    ConversationReference.platform == PLATFORM, ConversationReference.workspace == workspace
                )
                .order_by(ConversationReference.updated_at.desc(), ConversationReference.id.desc())
                .limit(1)
            )
            return dict(data) if data is not None else None

    def language(
        self, settings: Settings, workspace: str, *, channel: str | None = None, user_id: str | None = None
    ) -> str:
        """The language a person reads (their own choice, else their unit's), as the router decides it."""
        with self.db.transaction() as session:
            org_id = session.scalar(
                select(Organisation.id).where(
                    Organisation.platform == PLATFORM, Organisation.external_id == workspace
                )
            )
            if org_id is not None:
                member = (
                    session.scalar(
                        select(Member).where(Member.organisation_id == org_id, Member.user_id == user_id)
                    )
                    if user_id
                    else None
                )
                if member is not None and member.language:
                    return normalise_language(member.language)
                unit = None
                if channel:
                    unit = session.scalar(
                        select(Unit).where(Unit.organisation_id == org_id, Unit.channel_id == channel)
                    )
                if unit is None and member is not None and member.home_unit_id:
                    unit = session.get(Unit, member.home_unit_id)
                if unit is not None:
                    return normalise_language(unit.language)
        return normalise_language(settings.language)

    def card_secret(self) -> bytes:
        """The HMAC key for card data: made once per installation, shared by replicas, kept on restart;
        stored encrypted when ``PARTSBOT_SECRET_KEY`` is set (a key stored before that is sealed now)."""
        for attempt in (1, 2):
            try:
                with self.db.transaction() as session:
                    row = session.get(KeyValue, CARD_SECRET_KEY)
                    if row is None:
                        row = KeyValue(key=CARD_SECRET_KEY, value=self.box.seal(secrets.token_hex(32)) or "")
                        session.add(row)
                    elif self.box.enabled and not row.value.startswith(PREFIX):
                        row.value = self.box.seal(row.value) or ""
                    return bytes.fromhex(self.box.open(row.value) or "")
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
