"""stock: which stock warnings were notified (sent once until they clear)

Revision ID: 0009_stock_notices
Revises: 0005_stock
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_stock_notices"
down_revision = "0005_stock"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_warning_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("depot_code", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("lot", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("episodes", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_warning_notices")),
        sa.UniqueConstraint("kind", "depot_code", "item_code", "lot",
                            name=op.f("uq_stock_warning_notices_kind")),
    )
    with op.batch_alter_table("stock_warning_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_warning_notices_active"), ["active"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_stock_warning_notices_depot_code"),
                              ["depot_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stock_warning_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_warning_notices_depot_code"))
        batch_op.drop_index(batch_op.f("ix_stock_warning_notices_active"))
    op.drop_table("stock_warning_notices")
