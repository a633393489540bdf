"""assessment: parameter sets (risk weights, impact curves) editable by administrators

Revision ID: 0007_assessment
Revises: 0002_shared
Create Date: 2026-11-29 12:35:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_assessment"
down_revision = "0002_shared"
branch_labels = ("assessment",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_parameters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"],
                                name=op.f("fk_assessment_parameters_updated_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_parameters")),
        sa.UniqueConstraint("name", name=op.f("uq_assessment_parameters_name")),
    )


def downgrade() -> None:
    op.drop_table("assessment_parameters")
