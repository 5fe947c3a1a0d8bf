"""Alembic environment: runs migrations on the URL the caller configured (see bot.storage.migrate)."""

from __future__ import annotations

from alembic import context

from bot.storage.db import make_engine

config = context.config
# Only autogenerate compares with the models; its caller hands the whole schema in (bot.schema sits above
# every area, and storage imports none of them).
target_metadata = config.attributes.get("target_metadata")


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set by bot.storage.migrate"
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table copies for ALTER
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
