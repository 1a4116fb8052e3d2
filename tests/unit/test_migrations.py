"""The migrations, run in their chain on PostgreSQL, build exactly what the models say: a migration
missing, out of order (several branches each added one), or different from its model fails here."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.support.pg_app import postgres_app
from textline.extensions import db
from textline.models import Base


def test_the_migrated_schema_is_the_models(tmp_path):
    with postgres_app(tmp_path) as app, app.app_context():
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
