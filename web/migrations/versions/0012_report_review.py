"""reports area: review of field reports (state on the report, history of every step)

Revision ID: 0012_report_review
Revises: 0004_reports
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_report_review"
down_revision = "0004_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant server default lets SQLite add the column in place (no table rebuild, so
    # the rows of report_photos referencing reports are never touched); reports filed
    # before this revision wait for review like new ones.
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_status", sa.String(length=32), nullable=False,
                                      server_default="pending"))
        batch_op.create_index(batch_op.f("ix_reports_review_status"), ["review_status"],
                              unique=False)
    op.create_table(
        "report_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"], ondelete="CASCADE",
                                name=op.f("fk_report_reviews_report_id_reports")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_report_reviews_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_reviews")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_report_reviews_idempotency_key")),
    )
    with op.batch_alter_table("report_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_reviews_report_id"), ["report_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_reviews_report_id"))
    op.drop_table("report_reviews")
    op.drop_index(op.f("ix_reports_review_status"), table_name="reports")
    # Plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch rebuild of reports would fail
    # on SpatiaLite (geometry column, rows of report_photos referencing it).
    op.execute("ALTER TABLE reports DROP COLUMN review_status")
