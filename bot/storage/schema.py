"""Import every module that defines tables, so ``Base.metadata`` is complete.

Alembic's autogenerate, ``create_all`` in tests and the schema check all start here: a new area with
tables adds its models module to ``MODEL_MODULES``.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from bot.storage.models import Base

MODEL_MODULES = (
    "bot.storage.models",
    "bot.adapters.slack.models",
    "bot.course.models",
    "bot.toolbox.models",
    "bot.toolbox.models_plan",
    "bot.toolbox.models_matter",
    "bot.storage.models_roles",
)


def metadata() -> MetaData:
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata
