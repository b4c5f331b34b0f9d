"""The migrations build the whole schema from nothing and match the models exactly.

Each test gets its own empty database on the run's backend (a SQLite file, or a
fresh PostgreSQL database), so nothing another test created can hide a problem.
A model changed without a migration makes ``test_models_and_migrations_agree`` fail.
"""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from core.extensions import db
from tests.conftest import _make_database


@pytest.fixture
def empty_app(make_app, tmp_path_factory):
    """An app on a brand-new empty database of the run's backend, with every plugin loaded."""
    databases = _make_database(tmp_path_factory)
    url = next(databases)
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    yield app
    with app.app_context():
        db.engine.dispose()
    next(databases, None)  # drops the PostgreSQL database


def flask_db(app, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, f"flask db {' '.join(args)} failed:\n{result.output}"


def tables_in(app) -> set[str]:
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def model_tables() -> set[str]:
    """Tables of the application's models (classes defined in test modules excluded)."""
    test_tables = {
        mapper.local_table.name for mapper in db.Model.registry.mappers
        if mapper.class_.__module__.startswith("tests") and mapper.local_table is not None}
    return set(db.metadata.tables) - test_tables


def schema_drift(app) -> list:
    """What ``flask db migrate`` would write: differences between database and models."""
    tables = model_tables()

    def include(obj, name, type_, reflected, compare_to):
        return type_ != "table" or name in tables or reflected

    migrate_args = app.extensions["migrate"].configure_args
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": include,
            "render_as_batch": migrate_args.get("render_as_batch", False)})
        return compare_metadata(ctx, db.metadata)


def head_revision(app) -> str:
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(app) -> str | None:
    with app.app_context(), db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_upgrade_builds_every_table_from_nothing(empty_app):
    assert tables_in(empty_app) == set()

    flask_db(empty_app, "upgrade")

    missing = model_tables() - tables_in(empty_app)
    assert not missing, f"tables with a model but no migration: {sorted(missing)}"
    assert current_revision(empty_app) == head_revision(empty_app)


def test_models_and_migrations_agree(empty_app):
    flask_db(empty_app, "upgrade")

    drift = schema_drift(empty_app)

    assert drift == [], (
        "the models differ from the migrated schema; run `flask --app wsgi db migrate -m "
        f"'…'`, review the new revision and commit it:\n{drift}")


def test_downgrade_to_base_then_upgrade_again(empty_app):
    flask_db(empty_app, "upgrade")

    flask_db(empty_app, "downgrade", "base")
    assert tables_in(empty_app) <= {"alembic_version"}
    assert current_revision(empty_app) is None

    flask_db(empty_app, "upgrade")
    assert model_tables() <= tables_in(empty_app)
    assert schema_drift(empty_app) == []
