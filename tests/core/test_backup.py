"""Backups restore: the commands of docs/operations.md, run for real on the run's database.

PostgreSQL: ``pg_dump --format=custom`` of the test database, ``pg_restore`` into
a new database, then every table has the same number of rows, ``flask jixiao
audit verify`` passes, a demo user logs in and the restored database takes new
audited writes (its sequences came back too). SQLite: ``VACUUM INTO`` a backup
file, then the same checks on a copy of it.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, table
from sqlalchemy.engine import make_url

from core.extensions import db
from core.services.temporary_db import temporary_database
from tests import pg_bin
from tests.support import do_login


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: conn.scalar(select(func.count()).select_from(table(name)))
                    for name in inspect(conn).get_table_names()}
    finally:
        engine.dispose()


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as the ``postgresql://`` URI that pg_dump and psql take."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_program(name: str, url: str) -> str:
    """``name`` of the server's major version or newer (``tests.pg_bin``), else fail."""
    found = pg_bin.pg_program(name, url)
    if found is None:
        server = pg_bin.server_major(url)
        pytest.fail(f"no {name} of PostgreSQL {server} or newer on this machine (apt-get "
                    f"install postgresql-client-{server}); a backup needs one")
    return found


def run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)  # noqa: S603
    assert done.returncode == 0, f"{Path(argv[0]).name} failed:\n{done.stderr}"


def check_restored(make_app, original: dict[str, int], restored_url: str) -> None:
    """The restored database holds the same rows, a valid audit chain, and keeps working."""
    assert row_counts(restored_url) == original

    app = make_app(SQLALCHEMY_DATABASE_URI=restored_url)
    cli = app.test_cli_runner()
    try:
        verified = cli.invoke(args=["jixiao", "audit", "verify"])
        assert verified.exit_code == 0, verified.output
        assert f"audit chain intact: {original['audit_log']} entries" in verified.output

        assert do_login(app.test_client(), "dept01").status_code == 302

        created = cli.invoke(args=["jixiao", "user", "create", "restored01", "--role", "viewer", "--org", "D01",
                                   "--generate-password"])
        assert created.exit_code == 0, created.output
        again = cli.invoke(args=["jixiao", "audit", "verify"])
        assert again.exit_code == 0, again.output
        assert row_counts(restored_url)["audit_log"] > original["audit_log"]
    finally:
        with app.app_context():
            db.engine.dispose()


def test_pg_dump_then_pg_restore_into_a_new_database(app, make_app, database_url, tmp_path):
    if database_url.startswith("sqlite"):
        pytest.skip("pg_dump/pg_restore need PostgreSQL; the SQLite run tests VACUUM INTO")
    original = row_counts(database_url)
    dump = tmp_path / "jixiao.dump"

    run([pg_program("pg_dump", database_url), "--format=custom", "--no-owner",
         "--file", str(dump), libpq_url(database_url)])
    with temporary_database(database_url, prefix="jixiao_restore") as restored_url:
        run([pg_program("pg_restore", database_url), "--no-owner", "--exit-on-error",
             "--single-transaction", "--dbname", libpq_url(restored_url), str(dump)])

        check_restored(make_app, original, restored_url)


def test_sqlite_vacuum_into_backup_restores(app, make_app, database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("VACUUM INTO backs up SQLite; the PostgreSQL run tests pg_dump")
    original = row_counts(database_url)
    backup = tmp_path / "jixiao-backup.sqlite3"

    with sqlite3.connect(make_url(database_url).database) as conn:  # the app may be running
        conn.execute("VACUUM INTO ?", (str(backup),))
    restored = tmp_path / "restored" / "jixiao.sqlite3"
    restored.parent.mkdir()
    shutil.copyfile(backup, restored)  # restoring: the app stopped, the file copied back

    check_restored(make_app, original, f"sqlite:///{restored}")
