"""course settings: the unit's planning days (planleggingsdager)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A server default lets existing units keep their settings row: they simply have no planning days yet.
    with op.batch_alter_table("course_settings") as batch:
        batch.add_column(sa.Column("planning_days", sa.String(length=400), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("course_settings") as batch:
        batch.drop_column("planning_days")
