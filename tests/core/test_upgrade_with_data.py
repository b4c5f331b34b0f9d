"""Upgrading a database that holds data: what an operator does at every release.

A database at the first revision with the demo data of the core (org units,
users, budget items, the audit log…) is upgraded with ``flask jixiao init-db``,
the documented upgrade command (docs/operations.md): every revision since
runs on top of real rows, nothing is lost, the schema then matches the models,
the audit chain still verifies and people can log in.
"""

from __future__ import annotations

from alembic.script import ScriptDirectory

from tests.core.test_backup import row_counts
from tests.core.test_migrations import (  # noqa: F401 - empty_app is a fixture
    current_revision,
    empty_app,
    flask_db,
    head_revision,
    schema_drift,
)
from tests.support import do_login


def base_revision(app) -> str:
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_base()


def test_a_database_with_data_at_the_first_revision_upgrades_to_head(empty_app):  # noqa: F811
    url = empty_app.config["SQLALCHEMY_DATABASE_URI"]
    cli = empty_app.test_cli_runner()
    flask_db(empty_app, "upgrade")
    seeded = cli.invoke(args=["jixiao", "seed-demo", "--scale", "small"])
    assert seeded.exit_code == 0, seeded.output
    first = base_revision(empty_app)
    flask_db(empty_app, "downgrade", first)  # leaves the rows of the first revision's tables
    old = row_counts(url)
    assert old["budget_item"] > 0 and old["audit_log"] > 0 and "target_sheet" not in old

    upgraded = cli.invoke(args=["jixiao", "init-db"])

    assert upgraded.exit_code == 0, upgraded.output
    assert current_revision(empty_app) == head_revision(empty_app)
    assert schema_drift(empty_app) == []
    new = row_counts(url)
    assert {name: new[name] for name in old} == old  # every row of every old table kept
    verified = cli.invoke(args=["jixiao", "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert do_login(empty_app.test_client(), "finance").status_code == 302
    assert empty_app.test_client().get("/healthz").status_code == 200
