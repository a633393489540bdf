"""reports area: officer proposals, report photos, obligations, reminders, response thresholds

Revision ID: 0004_reports
Revises: 0002_shared
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0004_reports"
down_revision = "0002_shared"
branch_labels = ("reports",)
depends_on = None

# 国家自然灾害救助应急预案 (2024): level I values; II–IV the 2016 values (DESIGN.md §4.4).
NATIONAL = {
    "dead_missing": (200, 100, 50, 20),
    "evacuated_needing_aid": (2_000_000, 1_000_000, 500_000, 100_000),
    "collapsed_severe_rooms": (300_000, 200_000, 100_000, 10_000),
    "collapsed_severe_households": (100_000, 70_000, 30_000, 3_000),
}
# A city plan scales the national values down; these starting values (about 1/20 of the
# national ones, rounded) are meant to be replaced by the city's own plan by the administrator.
CITY = {
    "dead_missing": (10, 5, 3, 1),
    "evacuated_needing_aid": (100_000, 50_000, 20_000, 5_000),
    "collapsed_severe_rooms": (15_000, 10_000, 5_000, 500),
    "collapsed_severe_households": (5_000, 3_500, 1_500, 150),
}


def upgrade() -> None:
    op.create_table(
        "officer_proposals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.Enum("pending", "approved", "rejected", name="proposal_status",
                                    native_enum=False, length=32), nullable=False),
        sa.Column("max_load", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("unassigned", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_proposals")),
    )
    op.create_table(
        "report_photos",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["reports.id"],
                                name=op.f("fk_report_photos_report_id_reports"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_photos")),
    )
    with op.batch_alter_table("report_photos") as batch_op:
        batch_op.create_index(batch_op.f("ix_report_photos_report_id"), ["report_id"])
    op.create_table(
        "report_obligations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warning_level", sa.String(length=16), nullable=False),
        sa.Column("initial_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_report_obligations_event_id_events"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_code"], ["communities.code"],
                                name=op.f("fk_report_obligations_community_code_communities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_obligations")),
        sa.UniqueConstraint("event_id", "community_code",
                            name=op.f("uq_report_obligations_event_id")),
    )
    with op.batch_alter_table("report_obligations") as batch_op:
        batch_op.create_index(batch_op.f("ix_report_obligations_event_id"), ["event_id"])
        batch_op.create_index(batch_op.f("ix_report_obligations_community_code"),
                              ["community_code"])
    op.create_table(
        "report_reminders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("officer_ids", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_report_reminders_event_id_events"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_code"], ["communities.code"],
                                name=op.f("fk_report_reminders_community_code_communities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_reminders")),
        sa.UniqueConstraint("event_id", "community_code", "kind", "due_at", "stage",
                            name=op.f("uq_report_reminders_event_id")),
    )
    with op.batch_alter_table("report_reminders") as batch_op:
        batch_op.create_index(batch_op.f("ix_report_reminders_event_id"), ["event_id"])
        batch_op.create_index(batch_op.f("ix_report_reminders_community_code"),
                              ["community_code"])
    thresholds = op.create_table(
        "response_thresholds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("profile", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=4), nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_thresholds")),
        sa.UniqueConstraint("profile", "level", "indicator",
                            name=op.f("uq_response_thresholds_profile")),
    )
    # The latest report of an (event, community) is looked up on every submission.
    with op.batch_alter_table("reports") as batch_op:
        batch_op.create_index("ix_reports_event_community", ["event_id", "community_code"])
    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    rows = []
    for profile, table in (("national", NATIONAL), ("city", CITY)):
        for indicator, values in table.items():
            for level, value in zip(("I", "II", "III", "IV"), values, strict=True):
                rows.append({"profile": profile, "level": level, "indicator": indicator,
                             "value": float(value), "updated_at": now,
                             "updated_by": "migration 0004_reports"})
    op.bulk_insert(thresholds, rows)


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch_op:
        batch_op.drop_index("ix_reports_event_community")
    op.drop_table("response_thresholds")
    op.drop_table("report_reminders")
    op.drop_table("report_obligations")
    op.drop_table("report_photos")
    op.drop_table("officer_proposals")
