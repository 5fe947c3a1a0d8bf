"""meeting kinds (personalmøte, ledermøte, HMS-gruppe, trio), "hvorfor og hva vil vi" on agenda items,
the check-in indicator an action should improve, files waiting for a Teams file-consent answer, and the
pool a trio module's evaluation was shown in

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Meetings planned before there were kinds were posted to the whole channel: personalmøter.
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="staff"))
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.alter_column("kind", server_default=None)
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("why", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.alter_column("why", server_default=None)
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("indicator", sa.String(length=16), nullable=True))
    with op.batch_alter_table("evaluation_round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pool", sa.Integer(), nullable=True))
    op.create_table(
        "teams_pending_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_pending_file")),
        sa.UniqueConstraint("token", name=op.f("uq_teams_pending_file_token")),
    )
    with op.batch_alter_table("teams_pending_file", schema=None) as batch_op:
        batch_op.create_index("ix_teams_pending_file_created", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("teams_pending_file", schema=None) as batch_op:
        batch_op.drop_index("ix_teams_pending_file_created")
    op.drop_table("teams_pending_file")
    with op.batch_alter_table("evaluation_round", schema=None) as batch_op:
        batch_op.drop_column("pool")
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        batch_op.drop_column("indicator")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_column("why")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("kind")
