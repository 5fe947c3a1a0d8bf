"""privacy: anonymous pool with random ids and distinct-asker counts, wider token columns, uninstall deletion

Revision ID: 0007
Revises: 0006

* ``toolbox_pending_question.id`` becomes a random string (the pool is rewritten in random order on every
  change); waiting questions are copied with new random ids.
* ``toolbox_anonymous_pool`` counts different askers as keyed hashes.
* Slack token columns grow to hold encrypted tokens (``bot/crypto.py``).
* ``organisation.delete_after``: when an uninstalled organisation's data is deleted.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKENS = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}


def _pending_table(id_type: sa.String | sa.Integer) -> None:
    op.create_table(
        "toolbox_pending_question",
        sa.Column("id", id_type, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["toolbox_case.id"],
            name=op.f("fk_toolbox_pending_question_case_id_toolbox_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_toolbox_pending_question")),
        sa.UniqueConstraint("case_id", "digest", name=op.f("uq_toolbox_pending_question_case_id_digest")),
    )


def upgrade() -> None:
    conn = op.get_bind()
    waiting = conn.execute(sa.text("SELECT case_id, text, digest FROM toolbox_pending_question")).all()
    op.drop_table("toolbox_pending_question")
    _pending_table(sa.String(length=32))
    for case_id, text, digest in waiting:
        conn.execute(
            sa.text(
                "INSERT INTO toolbox_pending_question (id, case_id, text, digest) "
                "VALUES (:id, :case_id, :text, :digest)"
            ),
            {"id": secrets.token_hex(16), "case_id": case_id, "text": text, "digest": digest},
        )
    op.create_table(
        "toolbox_anonymous_pool",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("askers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["toolbox_case.id"],
            name=op.f("fk_toolbox_anonymous_pool_case_id_toolbox_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_toolbox_anonymous_pool")),
    )
    # Waiting questions from before this migration have no asker hashes: their pool starts empty, so they
    # are released only once enough different people ask anew (never by fewer).
    for table, columns in _TOKENS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, existing_type=sa.String(length=200), type_=sa.String(length=1000))
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(
            sa.Column("delete_after", bot.storage.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("delete_after")
    for table, columns in _TOKENS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, existing_type=sa.String(length=1000), type_=sa.String(length=200))
    op.drop_table("toolbox_anonymous_pool")
    op.drop_table("toolbox_pending_question")
    _pending_table(sa.Integer())
