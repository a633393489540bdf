"""dispatch: the delivery deadline of a plan (hours after approval; orders past it are late)

Revision ID: 0013_dispatch
Revises: 0009_stock_notices
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_dispatch"
down_revision = "0009_stock_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite does not recreate dispatch_plans, so no cascade to orders).
    with op.batch_alter_table("dispatch_plans") as batch_op:
        batch_op.add_column(sa.Column("due_hours", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dispatch_plans") as batch_op:
        batch_op.drop_column("due_hours")
