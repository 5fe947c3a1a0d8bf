"""Alembic, driven from code: ``partsbot db upgrade`` and the upgrade applied at every start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on a "%" in a password.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str, target: MetaData) -> None:
    """Autogenerate a migration from the models (developers only), given the whole schema:
    ``revision(url, "add x", bot.schema.metadata())``."""
    cfg = alembic_config(url)
    cfg.attributes["target_metadata"] = target
    command.revision(cfg, message=message, autogenerate=True)
