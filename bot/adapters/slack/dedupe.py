"""Handle each Events API delivery once, however often Slack sends it and whichever replica gets it.

Slack retries an event (``X-Slack-Retry-Num``) when it did not see our acknowledgement in time; a replica
behind a load balancer may get the retry while another still works on the first copy. The first insert of
(team, event_id) wins; a unique-constraint violation means "seen" – a database fact, not process memory.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.adapters.slack.models import SlackEventSeen
from bot.storage.db import Database

log = logging.getLogger(__name__)

# Slack's last retry comes about five minutes after the first try; a day leaves a wide margin.
KEEP = timedelta(days=1)
PRUNE_EVERY_SECONDS = 600.0


class EventLedger:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._last_prune = 0.0

    def first_time(self, team_id: str, event_id: str, now: datetime | None = None) -> bool:
        """Record the event; ``False`` when it was recorded before (a retry or a duplicate)."""
        now = now or datetime.now(UTC)
        try:
            with self.db.transaction() as session:
                session.add(SlackEventSeen(team_id=team_id[:32], event_id=event_id[:64], received_at=now))
        except IntegrityError:
            return False
        self._maybe_prune(now)
        return True

    def _maybe_prune(self, now: datetime) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = time.monotonic()
        with self.db.transaction() as session:
            session.execute(delete(SlackEventSeen).where(SlackEventSeen.received_at < now - KEEP))
