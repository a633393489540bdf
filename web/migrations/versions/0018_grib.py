"""GRIB2 model runs: which run (or analysis) each stored hourly grid comes from; the CAP
certainty (ensemble probability) of each alert message; impact matrices per hazard

Revision ID: 0018_grib
Revises: 0010_acks
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_grib"
down_revision = "0010_acks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "weather_grid_origins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("variable", sa.String(length=40), nullable=False),
        sa.Column("valid_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geometry_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("run_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("step_hours", sa.Float(), nullable=False),
        sa.Column("observed", sa.Boolean(), nullable=False),
        sa.Column("member", sa.Integer(), nullable=True),
        sa.Column("source_name", sa.String(length=1000), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weather_grid_origins")),
        sa.UniqueConstraint("provider", "variable", "valid_time", "geometry_key",
                            name=op.f("uq_weather_grid_origins_provider")),
    )
    with op.batch_alter_table("weather_grid_origins") as batch_op:
        batch_op.create_index(batch_op.f("ix_weather_grid_origins_valid_time"), ["valid_time"])
        batch_op.create_index(batch_op.f("ix_weather_grid_origins_source"), ["source"])


    op.create_table(
        "alert_certainties",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("certainty", sa.String(length=20), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE",
                                name=op.f("fk_alert_certainties_alert_id_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_certainties")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_alert_certainties_alert_id")),
    )
    op.create_table(
        "impact_matrices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hazard", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_impact_matrices_updated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_impact_matrices")),
        sa.UniqueConstraint("hazard", name=op.f("uq_impact_matrices_hazard")),
    )


def downgrade() -> None:
    op.drop_table("impact_matrices")
    op.drop_table("alert_certainties")
    op.drop_table("weather_grid_origins")
