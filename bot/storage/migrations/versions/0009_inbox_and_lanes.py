"""inbox before the ack, outbox lanes (coalescing, parking); the inbox replaces slack_event_seen

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_item")),
        sa.UniqueConstraint("platform", "key", name=op.f("uq_inbox_item_platform_key")),
    )
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_item_pending", ["processed_at", "claimed_until"], unique=False)

    # Existing rows are ordinary, unparked items of their old (workspace-wide) lane.
    with op.batch_alter_table("outbox_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coalesce_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("parked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_outbox_item_lane", ["lane", "id"], unique=False)
    with op.batch_alter_table("outbox_item", schema=None) as batch_op:
        batch_op.alter_column("parked", server_default=None)

    # The inbox's unique key de-duplicates Events API retries now.
    with op.batch_alter_table("slack_event_seen", schema=None) as batch_op:
        batch_op.drop_index("ix_slack_event_seen_received_at")
    op.drop_table("slack_event_seen")


def downgrade() -> None:
    op.create_table(
        "slack_event_seen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_event_seen")),
        sa.UniqueConstraint("team_id", "event_id", name=op.f("uq_slack_event_seen_team_id_event_id")),
    )
    with op.batch_alter_table("slack_event_seen", schema=None) as batch_op:
        batch_op.create_index("ix_slack_event_seen_received_at", ["received_at"], unique=False)
    with op.batch_alter_table("outbox_item", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_item_lane")
        batch_op.drop_column("parked")
        batch_op.drop_column("coalesce_key")
    with op.batch_alter_table("inbox_item", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_item_pending")
    op.drop_table("inbox_item")
