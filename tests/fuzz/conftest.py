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
from tests.support import migrate_and_seed, new_app


@pytest.fixture(scope="module")
def private_app(instance_path):
    with temporary_database(os.environ.get("JIXIAO_TEST_DATABASE_URL"), "jixiao_fz") as url:
        app = new_app(url, instance_path)
        migrate_and_seed(app)
        yield app
        from core.extensions import db

        with app.app_context():
            db.engine.dispose()
