"""Alembic environment: the same migrations run on SpatiaLite and PostGIS."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from gis.db import Base, make_engine
from web.models import import_all_models

import_all_models()
config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


SPATIAL_SYSTEM_TABLES = {
    "ElementaryGeometries", "KNN", "KNN2", "data_licenses", "sql_statements_log", "SpatialIndex",
    "spatial_ref_sys", "spatial_ref_sys_aux", "geometry_columns", "spatialite_history",
    "views_geometry_columns", "virts_geometry_columns", "geometry_columns_auth",
    "geometry_columns_statistics", "geometry_columns_field_infos", "geometry_columns_time",
    "views_geometry_columns_auth", "virts_geometry_columns_auth", "spatial_ref_sys_all",
    "views_geometry_columns_statistics", "virts_geometry_columns_statistics",
    "views_geometry_columns_field_infos", "virts_geometry_columns_field_infos",
    "topology", "layer",
}


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and (name in SPATIAL_SYSTEM_TABLES or name.startswith("idx_")
                             or name.startswith("apscheduler")):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=_include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
