"""Shared fixtures: one real database per run (SQLite file or a fresh PostgreSQL database).

``JIXIAO_TEST_DATABASE_URL`` picks the backend: unset → a SQLite file in a temp
dir; ``postgresql+psycopg://postgres@127.0.0.1:5432/test`` → a new database
``jixiao_t_<random>`` is created from it for this run and dropped afterwards.
The schema is built by the migrations, and the small demo data set is loaded
once; tests that change data create their own rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from core.services.temporary_db import temporary_database
from plugins.system.demo import DEMO_PASSWORD
from tests.support import do_login, migrate_and_seed, new_app, token_headers

os.environ.setdefault("JIXIAO_ENV", "testing")


def _make_database(tmp_path_factory=None) -> Iterator[str]:
    """A fresh database for this run on the backend chosen by JIXIAO_TEST_DATABASE_URL."""
    with temporary_database(os.environ.get("JIXIAO_TEST_DATABASE_URL")) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    yield from _make_database(tmp_path_factory)


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("instance")
    return str(path)


@pytest.fixture(scope="session")
def make_app(database_url, instance_path):
    """Build an app on the run's database; keyword arguments become config."""
    def factory(**config):
        return new_app(database_url, instance_path, **config)

    return factory


@pytest.fixture(scope="session")
def app(make_app):
    """The app with the schema migrated and the small demo data loaded."""
    app = make_app()
    migrate_and_seed(app)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(app):
    """``login("dept01")`` → a test client logged in as that demo user."""

    def _login(username: str, password: str = DEMO_PASSWORD):
        c = app.test_client()
        response = do_login(c, username, password)
        assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
        return c

    return _login


@pytest.fixture
def db_session(app):
    from core.extensions import db

    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def token_for(app):
    """``token_for("dept01")`` → headers with a new personal API token of that user."""

    def make(username: str) -> dict:
        return token_headers(app, username)

    return make
