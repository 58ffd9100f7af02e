"""`flask db upgrade` builds the same tables, columns and indexes on SQLite and PostgreSQL,
and the migrations match the models."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from app import create_app
from core.extensions import db
from tests.conftest import POSTGRES_URL, base_config, create_postgres_database, drop_postgres_database


def generic_type(column_type) -> str:
    """A backend-neutral name for a column type (SQLite and PostgreSQL spell some differently)."""
    for generic, names in {"integer": ("INTEGER", "SMALLINT", "BIGINT"), "string": ("VARCHAR",),
                           "text": ("TEXT",), "boolean": ("BOOLEAN",), "datetime": ("DATETIME", "TIMESTAMP"),
                           "json": ("JSON",), "float": ("FLOAT", "DOUBLE", "REAL")}.items():
        if any(str(column_type).upper().startswith(n) for n in names):
            length = getattr(column_type, "length", None)
            return f"{generic}({length})" if generic == "string" else generic
    return str(column_type)


def describe(engine) -> dict:
    """Tables → columns (type, nullable), indexes, unique constraints and foreign keys."""
    inspector = sa.inspect(engine)
    schema = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        schema[table] = {
            "columns": {c["name"]: (generic_type(c["type"]), c["nullable"]) for c in inspector.get_columns(table)},
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(table) if not i.get("duplicates_constraint")),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            "foreign_keys": sorted((tuple(f["constrained_columns"]), f["referred_table"])
                                   for f in inspector.get_foreign_keys(table)),
        }
    return schema


def upgraded_schema(url: str) -> tuple[dict, list]:
    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        schema = describe(db.engine)
        db.engine.dispose()
    return schema, diff


def test_sqlite_migrations_match_models(tmp_path):
    schema, diff = upgraded_schema(f"sqlite:///{tmp_path / 'migrated.db'}")
    assert diff == []
    assert {"users", "bodies", "memberships", "campaigns", "categories", "campaign_categories", "suggestions",
            "votes", "replies", "audit_log"} <= set(schema)
    assert ("ix_suggestions_campaign_status_created", ("campaign_id", "status", "created_at", "id"), False) \
        in schema["suggestions"]["indexes"]


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL suite not configured (JIANYAN_TEST_POSTGRES_URL)")
def test_same_schema_on_sqlite_and_postgres(tmp_path, request):
    request.node.user_properties.append(("suite", "postgres"))
    sqlite_schema, sqlite_diff = upgraded_schema(f"sqlite:///{tmp_path / 'migrated.db'}")
    pg_url = create_postgres_database("jianyan_schema")
    try:
        pg_schema, pg_diff = upgraded_schema(pg_url)
    finally:
        drop_postgres_database(pg_url)
    assert sqlite_diff == [] and pg_diff == []
    assert pg_schema == sqlite_schema
