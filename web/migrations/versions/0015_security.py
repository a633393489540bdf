"""security: ``users.session_version``, so a password change or sign-out ends every session

A session carries the version it was signed in under; the user loader refuses a session
whose version is no longer the user's.

Revision ID: 0015_security
Revises: 0002_shared
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_security"
down_revision = "0002_shared"
branch_labels = ("security",)
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (both backends support it with a constant default). Not a batch
    # operation: SQLite would recreate users, and its DROP TABLE would cascade to the
    # scopes and tokens (foreign_keys=ON).
    op.add_column("users", sa.Column("session_version", sa.Integer(), nullable=False,
                                     server_default="0"))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite >= 3.35, PostgreSQL) for the same reason.
    op.execute("ALTER TABLE users DROP COLUMN session_version")
