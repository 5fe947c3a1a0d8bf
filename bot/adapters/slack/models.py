"""Slack's tables: bolt's installation and OAuth state stores on our database.

The installation tables are bolt's own definitions (``SQLAlchemyInstallationStore.build_*_table``), put on
our ``Base.metadata`` so that ``create_all`` in tests and Alembic's autogenerate see them like any
other table; :mod:`bot.adapters.slack.installs` points bolt's stores at these very ``Table`` objects.
"""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import String

from bot.storage.models import Base
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


# The installer's Slack user id in bolt's table: emptied when that person is erased (the install stays).
declare(slack_installations, "user_id", "blank", "installer")
