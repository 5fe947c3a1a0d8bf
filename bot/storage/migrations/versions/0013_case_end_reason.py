"""cases: how a case ended without a plan (withdrawn or closed by its starter or a party)

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: every existing case is either open or ended with its plan decided.
    with op.batch_alter_table("toolbox_case") as batch:
        batch.add_column(sa.Column("end_reason", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("toolbox_case") as batch:
        batch.drop_column("end_reason")
