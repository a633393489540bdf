"""shelters: occupancy history, evacuation plans, settings

Revision ID: 0006_shelters
Revises: 0002_shared
Create Date: 2026-11-29 12:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_shelters"
down_revision = "0002_shared"
branch_labels = ("shelters",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shelter_occupancy_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shelter_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.Enum("arrival", "departure", "count", name="occupancy_change_kind",
                                  native_enum=False, length=32), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("occupancy_before", sa.Integer(), nullable=False),
        sa.Column("occupancy_after", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_shelter_occupancy_changes_actor_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["shelter_id"], ["shelters.id"],
                                name=op.f("fk_shelter_occupancy_changes_shelter_id_shelters"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelter_occupancy_changes")),
    )
    with op.batch_alter_table("shelter_occupancy_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shelter_occupancy_changes_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shelter_occupancy_changes_shelter_id"),
                              ["shelter_id"], unique=False)

    op.create_table(
        "evacuation_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=80), nullable=False),
        sa.Column("distance_mode", sa.String(length=20), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.Column("unassigned", sa.Integer(), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_evacuation_plans_created_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evacuation_plans")),
    )
    with op.batch_alter_table("evacuation_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evacuation_plans_created_at"), ["created_at"],
                              unique=False)

    op.create_table(
        "shelter_settings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelter_settings")),
        sa.UniqueConstraint("key", name=op.f("uq_shelter_settings_key")),
    )


def downgrade() -> None:
    op.drop_table("shelter_settings")
    with op.batch_alter_table("evacuation_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evacuation_plans_created_at"))
    op.drop_table("evacuation_plans")
    with op.batch_alter_table("shelter_occupancy_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shelter_occupancy_changes_shelter_id"))
        batch_op.drop_index(batch_op.f("ix_shelter_occupancy_changes_at"))
    op.drop_table("shelter_occupancy_changes")
