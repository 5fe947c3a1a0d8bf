"""Slack's tables: bolt's installation and OAuth state stores on our database.

The installation tables are bolt's own definitions (``SQLAlchemyInstallationStore.build_*_table``), put on
our ``Base.metadata`` so that ``create_all`` in tests and the lead's Alembic autogenerate see them like any
other table; :mod:`bot.adapters.slack.installs` points bolt's stores at these very ``Table`` objects.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.storage.models import Base

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
OAUTH_STATES_TABLE = "slack_oauth_states"

slack_installations = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, INSTALLATIONS_TABLE
)
slack_bots = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, BOTS_TABLE)
slack_oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, OAUTH_STATES_TABLE)
