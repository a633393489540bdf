"""notifications to signed-in users: ``notifications.user_id`` beside ``officer_id``

Depot managers and duty officers are users, not community officers; stock warnings reach
them through the same inbox and delivery machinery. Exactly one recipient per row.

Revision ID: 0008_user_notifications
Revises: 0003_warnings
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_user_notifications"
down_revision = "0003_warnings"
branch_labels = None
depends_on = None

CHECK = "(officer_id IS NULL) <> (user_id IS NULL)"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _keep_deliveries() -> None:
    # SQLite recreates the table to change a column. Its DROP TABLE deletes the old rows
    # first, and with foreign_keys=ON (gis.db) that cascades to deliveries: keep a copy.
    op.execute("CREATE TEMPORARY TABLE _kept_deliveries AS SELECT * FROM deliveries")


def _restore_deliveries() -> None:
    op.execute("INSERT INTO deliveries SELECT * FROM _kept_deliveries "
                "WHERE id NOT IN (SELECT id FROM deliveries) "
                "AND notification_id IN (SELECT id FROM notifications)")
    op.execute("DROP TABLE _kept_deliveries")


def upgrade() -> None:
    sqlite = _sqlite()
    if sqlite:
        _keep_deliveries()
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("officer_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_notifications_user_id_users"), "users",
                                    ["user_id"], ["id"], ondelete="CASCADE")
        batch_op.create_index(op.f("ix_notifications_user_id"), ["user_id"], unique=False)
        batch_op.create_check_constraint(op.f("ck_notifications_one_recipient"), CHECK)
    if sqlite:
        _restore_deliveries()


def downgrade() -> None:
    # Rows addressed to users have no place in the older schema.
    op.execute("DELETE FROM deliveries WHERE notification_id IN "
               "(SELECT id FROM notifications WHERE user_id IS NOT NULL)")
    op.execute("DELETE FROM notifications WHERE user_id IS NOT NULL")
    sqlite = _sqlite()
    if sqlite:
        _keep_deliveries()
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notifications_one_recipient"), type_="check")
        batch_op.drop_index(op.f("ix_notifications_user_id"))
        batch_op.drop_constraint(op.f("fk_notifications_user_id_users"), type_="foreignkey")
        batch_op.drop_column("user_id")
        batch_op.alter_column("officer_id", existing_type=sa.Integer(), nullable=False)
    if sqlite:
        _restore_deliveries()
