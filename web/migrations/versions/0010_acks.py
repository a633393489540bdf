"""叫应 per community and warning level; peak warning per community of each open event

``community_acks``: an officer's acknowledgement of a community's warning of one hazard at
the highest level acknowledged, kept across Updates (disaster.notify.ack). Acknowledgements
of messages still in force are carried over from ``alert_acks``.
``event_peaks``: the highest warning each community reached while an event was open
(disaster.event_impact).

Revision ID: 0010_acks
Revises: 0008_user_notifications
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0010_acks"
down_revision = "0008_user_notifications"
branch_labels = None
depends_on = None

HAZARDS = ("rainstorm", "snowstorm", "cold_wave", "gale", "heat", "frost", "fog", "typhoon")
LEVELS = ("blue", "yellow", "orange", "red")
RANK = {level: i for i, level in enumerate(LEVELS)}


def upgrade() -> None:
    op.create_table(
        "community_acks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("hazard", sa.Enum(*HAZARDS, name="ack_hazard", native_enum=False, length=32),
                  nullable=False),
        sa.Column("level", sa.Enum(*LEVELS, name="ack_level", native_enum=False, length=32),
                  nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"],
                                name=op.f("fk_community_acks_officer_id_officers"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_community_acks_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_acks")),
        sa.UniqueConstraint("community_code", "hazard", "officer_id",
                            name=op.f("uq_community_acks_community_code")),
    )
    with op.batch_alter_table("community_acks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_acks_community_code"), ["community_code"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_community_acks_officer_id"), ["officer_id"],
                              unique=False)
    op.create_table(
        "event_peaks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("hazard", sa.Enum(*HAZARDS, name="peak_hazard", native_enum=False, length=32),
                  nullable=False),
        sa.Column("level", sa.Enum(*LEVELS, name="peak_level", native_enum=False, length=32),
                  nullable=False),
        sa.Column("peak_value", sa.Float(), nullable=True),
        sa.Column("metric", sa.String(length=40), nullable=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_event_peaks_event_id_events"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_peaks")),
        sa.UniqueConstraint("event_id", "community_code", "hazard",
                            name=op.f("uq_event_peaks_event_id")),
    )
    with op.batch_alter_table("event_peaks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_peaks_event_id"), ["event_id"], unique=False)
    _carry_over_acknowledgements()


def _carry_over_acknowledgements() -> None:
    """Acknowledgements of messages in force become community acknowledgements, so an
    upgrade during a storm does not ask every officer again."""
    bind = op.get_bind()
    warned = {(c, h) for c, h in bind.execute(sa.text(
        "SELECT community_code, hazard FROM community_warnings"))}
    assigned: dict[int, set[str]] = {}
    for oid, code in bind.execute(sa.text(
            "SELECT officer_id, community_code FROM officer_assignments")):
        assigned.setdefault(oid, set()).add(code)
    best: dict[tuple[str, str, int], tuple] = {}
    rows = bind.execute(sa.text(
        "SELECT k.officer_id, k.user_id, k.via, k.at, a.id, a.hazard, a.level, a.communities "
        "FROM alert_acks k JOIN alerts a ON a.id = k.alert_id "
        "WHERE a.status IN ('active', 'updated') AND a.msg_type <> 'Cancel'"))
    for oid, uid, via, at, aid, hazard, level, communities in rows:
        codes = communities if isinstance(communities, list) else json.loads(communities or "[]")
        for code in codes:
            if code not in assigned.get(oid, ()) or (code, hazard) not in warned:
                continue
            key = (code, hazard, oid)
            if key not in best or RANK[level] > RANK[best[key][1]]:
                best[key] = (aid, level, uid, via, at)
    table = sa.table("community_acks", sa.column("community_code"), sa.column("hazard"),
                     sa.column("level"), sa.column("officer_id"), sa.column("alert_id"),
                     sa.column("user_id"), sa.column("via"), sa.column("at"))
    if best:
        op.bulk_insert(table, [
            {"community_code": code, "hazard": hazard, "level": level, "officer_id": oid,
             "alert_id": aid, "user_id": uid, "via": via, "at": at}
            for (code, hazard, oid), (aid, level, uid, via, at) in best.items()])


def downgrade() -> None:
    with op.batch_alter_table("event_peaks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_peaks_event_id"))
    op.drop_table("event_peaks")
    with op.batch_alter_table("community_acks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_acks_officer_id"))
        batch_op.drop_index(batch_op.f("ix_community_acks_community_code"))
    op.drop_table("community_acks")
