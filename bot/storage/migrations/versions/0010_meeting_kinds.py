"""meeting kinds (personalmøte, ledermøte, HMS-gruppe, trio), "hvorfor og hva vil vi" on agenda items, and
the check-in indicator an action should improve

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
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


def downgrade() -> None:
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        batch_op.drop_column("indicator")
    with op.batch_alter_table("agenda_item", schema=None) as batch_op:
        batch_op.drop_column("why")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("kind")
