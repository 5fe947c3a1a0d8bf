"""The whole schema: every module that defines tables, imported by name so ``Base.metadata`` is complete.

Alembic's autogenerate, ``create_all`` in tests and demos, and the schema check all start here. It sits
above every area (storage itself knows no area and no adapter; the import contracts in pyproject.toml
check both), so a new area with tables adds its models module to the imports below.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import bot.adapters.slack.models
import bot.adapters.teams.models
import bot.course.models
import bot.course.models_exchange
import bot.storage.models
import bot.storage.models_roles
import bot.toolbox.models
import bot.toolbox.models_matter
import bot.toolbox.models_plan

MODEL_MODULES = (
    bot.storage.models,
    bot.adapters.slack.models,
    bot.adapters.teams.models,
    bot.course.models,
    bot.course.models_exchange,
    bot.toolbox.models,
    bot.toolbox.models_plan,
    bot.toolbox.models_matter,
    bot.storage.models_roles,
)


def metadata() -> MetaData:
    return bot.storage.models.Base.metadata
