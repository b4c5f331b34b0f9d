"""A private database for the fuzz tests that write at random (schemathesis).

Random POST/PUT/DELETE requests publish ratings, delete work logs and add fee
schedules; on the shared run database that would change what other tests
see, so these run on a database of their own (same backend, same migrations,
same small demo data), dropped afterwards.
"""

from __future__ import annotations

import os

import pytest

from core.services.temporary_db import temporary_database


@pytest.fixture(scope="module")
def private_app(instance_path):
    from flask_migrate import upgrade

    from core import create_app

    with temporary_database(os.environ.get("JIXIAO_TEST_DATABASE_URL"), "jixiao_fz") as url:
        os.environ["JIXIAO_INSTANCE_PATH"] = instance_path
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                          "SECRET_KEY": "testing-secret"})
        with app.app_context():
            upgrade()
        result = app.test_cli_runner().invoke(args=["jixiao", "seed-demo", "--scale", "small"])
        assert result.exit_code == 0, result.output
        yield app
        from core.extensions import db

        with app.app_context():
            db.engine.dispose()
