"""Slack's tables: event de-duplication, and bolt's installation and OAuth state stores on our database.

The installation tables are bolt's own definitions (``SQLAlchemyInstallationStore.build_*_table``), put on
our ``Base.metadata`` so that ``create_all`` in tests and Alembic's autogenerate see them like any
other table; :mod:`bot.adapters.slack.installs` points bolt's stores at these very ``Table`` objects.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow
from bot.storage.personal import declare

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
OAUTH_STATES_TABLE = "slack_oauth_states"

slack_installations = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, INSTALLATIONS_TABLE
)
slack_bots = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, BOTS_TABLE)
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, OAUTH_STATES_TABLE)

# Tokens are stored encrypted (bot/crypto.py): a Fernet token is about 1.4 times the plain one plus 64
# characters, more than bolt's String(200) holds for Slack's longer rotating tokens.
TOKEN_COLUMNS = {
    slack_installations: ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    slack_bots: ("bot_token", "bot_refresh_token"),
}
for _table, _names in TOKEN_COLUMNS.items():
    for _name in _names:
        _table.c[_name].type = String(1000)


class SlackEventSeen(Base):
    """An Events API delivery we have accepted, so Slack's retries (and a second replica) skip it.

    Slack retries an event it thinks was not acknowledged, up to three times within about five minutes,
    with the same ``event_id``; the unique constraint makes "handled once" a database fact shared by all
    replicas. Rows older than a day are pruned (see :mod:`bot.adapters.slack.dedupe`).
    """

    __tablename__ = "slack_event_seen"
    __table_args__ = (
        UniqueConstraint("team_id", "event_id"),
        Index("ix_slack_event_seen_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


# The installer's Slack user id in bolt's table: emptied when that person is erased (the install stays).
declare(slack_installations, "user_id", "blank", "installer")
