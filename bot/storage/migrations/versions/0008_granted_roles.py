"""granted roles (claims, audit trail, one-time review), confidential matters, stances on plans

Existing rows migrate safely: every role already held stays (and is written to the audit trail as
"kept"); units whose representatives were set before grants existed get a ``role_review`` row, so their
leder is asked once to confirm them. Draft plans' approvals by representatives become stances ("enig");
a draft plan's earlier approval by the leder is not a decision under the new rules and is dropped (the
leder decides again). Decided plans keep their approvals as they are.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import bot.storage.models

REPRESENTATIVES = ("verneombud", "hovedverneombud", "tillitsvalgt")


revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_admin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_admin")),
        sa.UniqueConstraint(
            "platform", "workspace", "user_id", name=op.f("uq_platform_admin_platform_workspace_user_id")
        ),
    )
    op.create_table(
        "role_review",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_role_review_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_role_review")),
    )
    op.create_table(
        "role_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_role_claim_member_id_member"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_role_claim_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_claim")),
        sa.UniqueConstraint(
            "unit_id", "member_id", "role", name=op.f("uq_role_claim_unit_id_member_id_role")
        ),
    )
    with op.batch_alter_table("role_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_claim_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "role_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["member.id"], name=op.f("fk_role_event_actor_id_member"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_role_event_member_id_member"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_role_event_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_event")),
    )
    with op.batch_alter_table("role_event", schema=None) as batch_op:
        batch_op.create_index("ix_role_event_unit", ["unit_id", "id"], unique=False)

    op.create_table(
        "confidential_matter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("to_role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("name_shared", sa.Boolean(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["toolbox_case.id"],
            name=op.f("fk_confidential_matter_case_id_toolbox_case"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["member.id"],
            name=op.f("fk_confidential_matter_started_by_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_confidential_matter_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confidential_matter")),
    )
    with op.batch_alter_table("confidential_matter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_confidential_matter_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "confidential_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["member.id"],
            name=op.f("fk_confidential_note_author_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["matter_id"],
            ["confidential_matter.id"],
            name=op.f("fk_confidential_note_matter_id_confidential_matter"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confidential_note")),
    )
    with op.batch_alter_table("confidential_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_confidential_note_matter_id"), ["matter_id"], unique=False)

    op.create_table(
        "plan_stance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("stance", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_plan_stance_member_id_member"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_plan_stance_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_stance")),
        sa.UniqueConstraint(
            "plan_id",
            "revision",
            "member_id",
            "role",
            name=op.f("uq_plan_stance_plan_id_revision_member_id_role"),
        ),
    )
    with op.batch_alter_table("plan_stance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_stance_plan_id"), ["plan_id"], unique=False)

    _carry_over_existing_rows()


def _carry_over_existing_rows() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    assignment = sa.table("role_assignment", sa.column("unit_id"), sa.column("member_id"), sa.column("role"))
    event = sa.table(
        "role_event",
        sa.column("unit_id"),
        sa.column("kind"),
        sa.column("role"),
        sa.column("member_id"),
        sa.column("actor_id"),
        sa.column("via"),
        sa.column("created_at", bot.storage.models.UTCDateTime(timezone=True)),
    )
    review = sa.table("role_review", sa.column("unit_id"))
    held = bind.execute(
        sa.select(assignment.c.unit_id, assignment.c.member_id, assignment.c.role).order_by(
            assignment.c.unit_id, assignment.c.member_id, assignment.c.role
        )
    ).all()
    if held:
        op.bulk_insert(
            event,
            [
                {
                    "unit_id": unit_id,
                    "kind": "kept",
                    "role": role,
                    "member_id": member_id,
                    "actor_id": None,
                    "via": "migration",
                    "created_at": now,
                }
                for unit_id, member_id, role in held
            ],
        )
    units = sorted({unit_id for unit_id, _member, role in held if role in REPRESENTATIVES})
    if units:
        op.bulk_insert(review, [{"unit_id": unit_id} for unit_id in units])

    plan = sa.table("plan", sa.column("id"), sa.column("status"), sa.column("revision"))
    approval = sa.table(
        "plan_approval",
        sa.column("id"),
        sa.column("plan_id"),
        sa.column("revision"),
        sa.column("role"),
        sa.column("member_id"),
    )
    stance = sa.table(
        "plan_stance",
        sa.column("plan_id"),
        sa.column("revision"),
        sa.column("member_id"),
        sa.column("role"),
        sa.column("stance"),
        sa.column("note"),
        sa.column("created_at", bot.storage.models.UTCDateTime(timezone=True)),
    )
    drafts = sa.select(plan.c.id).where(plan.c.status != "agreed")
    rows = bind.execute(
        sa.select(approval.c.plan_id, approval.c.revision, approval.c.role, approval.c.member_id).where(
            approval.c.plan_id.in_(drafts)
        )
    ).all()
    stances = [
        {
            "plan_id": plan_id,
            "revision": revision_,
            "member_id": member_id,
            "role": role,
            "stance": "enig",
            "note": "",
            "created_at": now,
        }
        for plan_id, revision_, role, member_id in rows
        if role in REPRESENTATIVES and member_id is not None
    ]
    if stances:
        op.bulk_insert(stance, stances)
    bind.execute(sa.delete(approval).where(approval.c.plan_id.in_(drafts)))


def downgrade() -> None:
    with op.batch_alter_table("plan_stance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_stance_plan_id"))

    op.drop_table("plan_stance")
    with op.batch_alter_table("confidential_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confidential_note_matter_id"))

    op.drop_table("confidential_note")
    with op.batch_alter_table("confidential_matter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confidential_matter_unit_id"))

    op.drop_table("confidential_matter")
    with op.batch_alter_table("role_event", schema=None) as batch_op:
        batch_op.drop_index("ix_role_event_unit")

    op.drop_table("role_event")
    with op.batch_alter_table("role_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_claim_unit_id"))

    op.drop_table("role_claim")
    op.drop_table("role_review")
    op.drop_table("platform_admin")
