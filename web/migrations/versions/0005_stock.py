"""stock: needs profiles, minimums, vehicles, road segments, dispatch plans and orders

Revision ID: 0005_stock
Revises: 0002_shared
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0005_stock"
down_revision = "0002_shared"
branch_labels = ("stock",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "needs_profiles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("norms", sa.JSON(), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs_profiles")),
        sa.UniqueConstraint("code", name=op.f("uq_needs_profiles_code")),
    )
    op.create_table(
        "stock_minimums",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("minimum", sa.Numeric(14, 3), nullable=False),
        sa.ForeignKeyConstraint(["depot_id"], ["depots.id"],
                                name=op.f("fk_stock_minimums_depot_id_depots")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"],
                                name=op.f("fk_stock_minimums_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_minimums")),
        sa.UniqueConstraint("depot_id", "item_id", name=op.f("uq_stock_minimums_depot_id")),
    )
    with op.batch_alter_table("stock_minimums") as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_minimums_depot_id"), ["depot_id"])
        batch_op.create_index(batch_op.f("ix_stock_minimums_item_id"), ["item_id"])
    op.create_table(
        "vehicles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("payload_kg", sa.Float(), nullable=False),
        sa.Column("volume_m3", sa.Float(), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["depot_id"], ["depots.id"], name=op.f("fk_vehicles_depot_id_depots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicles")),
        sa.UniqueConstraint("code", name=op.f("uq_vehicles_code")),
    )
    with op.batch_alter_table("vehicles") as batch_op:
        batch_op.create_index(batch_op.f("ix_vehicles_depot_id"), ["depot_id"])
    op.create_geospatial_table(
        "road_segments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("geom", Geometry(geometry_type="LINESTRING", srid=4326, dimension=2,
                                   spatial_index=False, from_text="ST_GeomFromEWKT",
                                   name="geometry", nullable=False), nullable=False),
        sa.Column("length_km", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road_segments")),
    )
    with op.batch_alter_table("road_segments") as batch_op:
        batch_op.create_geospatial_index("idx_road_segments_geom", ["geom"], unique=False,
                                         postgresql_using="gist", postgresql_ops={})
    op.create_table(
        "dispatch_plans",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.Enum("draft", "approved", "superseded", name="plan_status",
                                    native_enum=False, length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("profile", sa.String(length=32), nullable=True),
        sa.Column("solver", sa.String(length=40), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("solve_seconds", sa.Float(), nullable=False),
        sa.Column("problem", sa.JSON(), nullable=False),
        sa.Column("unmet", sa.JSON(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_plans")),
    )
    with op.batch_alter_table("dispatch_plans") as batch_op:
        batch_op.create_index(batch_op.f("ix_dispatch_plans_created_at"), ["created_at"])
    op.create_table(
        "dispatch_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("destination_kind", sa.String(length=20), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=False),
        sa.Column("status", sa.Enum("draft", "approved", "confirmed", "shipped", "delivered",
                                    "cancelled", name="order_status", native_enum=False,
                                    length=32), nullable=False),
        sa.Column("loads", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(length=80), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["dispatch_plans.id"],
                                name=op.f("fk_dispatch_orders_plan_id_dispatch_plans")),
        sa.ForeignKeyConstraint(["depot_id"], ["depots.id"],
                                name=op.f("fk_dispatch_orders_depot_id_depots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_orders")),
    )
    with op.batch_alter_table("dispatch_orders") as batch_op:
        batch_op.create_index(batch_op.f("ix_dispatch_orders_plan_id"), ["plan_id"])
        batch_op.create_index(batch_op.f("ix_dispatch_orders_depot_id"), ["depot_id"])
        batch_op.create_index(batch_op.f("ix_dispatch_orders_destination"), ["destination"])
        batch_op.create_index(batch_op.f("ix_dispatch_orders_status"), ["status"])
    op.create_table(
        "dispatch_order_lines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        sa.Column("allocations", sa.JSON(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["dispatch_orders.id"],
                                name=op.f("fk_dispatch_order_lines_order_id_dispatch_orders")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"],
                                name=op.f("fk_dispatch_order_lines_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_order_lines")),
    )
    with op.batch_alter_table("dispatch_order_lines") as batch_op:
        batch_op.create_index(batch_op.f("ix_dispatch_order_lines_order_id"), ["order_id"])


def downgrade() -> None:
    op.drop_table("dispatch_order_lines")
    op.drop_table("dispatch_orders")
    op.drop_table("dispatch_plans")
    with op.batch_alter_table("road_segments") as batch_op:
        batch_op.drop_geospatial_index("idx_road_segments_geom", postgresql_using="gist",
                                       column_name="geom")
    op.drop_geospatial_table("road_segments")
    op.drop_table("vehicles")
    op.drop_table("stock_minimums")
    op.drop_table("needs_profiles")
