"""Delivery workers: claims with a lease, retry times and the send time of each delivery

``deliveries.claimed_by``/``lease_until``: which delivery worker holds a queued row and until
when (a killed worker's rows are taken over after the lease). ``next_attempt_at``: when a
failed attempt may be retried (exponential backoff). ``sent_at``: when the gateway accepted it.

Revision ID: 0019_delivery_workers
Revises: 0010_acks
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_delivery_workers"
down_revision = "0010_acks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_deliveries_state_channel"), ["state", "channel"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_state_channel"))
        batch_op.drop_column("sent_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
