"""shelters: issued evacuation orders and their acknowledgements per community

Revision ID: 0011_evacuation_orders
Revises: 0006_shelters
Create Date: 2026-12-06 02:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_evacuation_orders"
down_revision = "0006_shelters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evacuation_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=80), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["issued_by"], ["users.id"],
                                name=op.f("fk_evacuation_orders_issued_by_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["plan_id"], ["evacuation_plans.id"],
                                name=op.f("fk_evacuation_orders_plan_id_evacuation_plans"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evacuation_orders")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_evacuation_orders_plan_id")),
    )
    with op.batch_alter_table("evacuation_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evacuation_orders_issued_at"), ["issued_at"],
                              unique=False)

    op.create_table(
        "evacuation_order_communities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("unassigned", sa.Integer(), nullable=False),
        sa.Column("destinations", sa.JSON(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_name", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["users.id"],
                                name=op.f("fk_evacuation_order_communities_acknowledged_by_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["community_code"], ["communities.code"],
                                name=op.f("fk_evacuation_order_communities_community_code_communities")),
        sa.ForeignKeyConstraint(["order_id"], ["evacuation_orders.id"],
                                name=op.f("fk_evacuation_order_communities_order_id_evacuation_orders"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evacuation_order_communities")),
        sa.UniqueConstraint("order_id", "community_code",
                            name=op.f("uq_evacuation_order_communities_order_id")),
    )
    with op.batch_alter_table("evacuation_order_communities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evacuation_order_communities_order_id"),
                              ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evacuation_order_communities_community_code"),
                              ["community_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evacuation_order_communities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evacuation_order_communities_community_code"))
        batch_op.drop_index(batch_op.f("ix_evacuation_order_communities_order_id"))
    op.drop_table("evacuation_order_communities")
    with op.batch_alter_table("evacuation_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evacuation_orders_issued_at"))
    op.drop_table("evacuation_orders")
