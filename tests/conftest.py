"""Shared fixtures: one real database per run (SQLite file or a fresh PostgreSQL database).

``JIXIAO_TEST_DATABASE_URL`` picks the backend: unset → a SQLite file in a temp
dir; ``postgresql+psycopg://postgres@127.0.0.1:5432/test`` → a new database
``jixiao_t_<random>`` is created from it for this run and dropped afterwards.
The schema is built by the migrations, and the small demo data set is loaded
once; tests that change data create their own rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from core.services.temporary_db import temporary_database
from plugins.system.demo import DEMO_PASSWORD

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
    from core import create_app

    def factory(**config):
        os.environ["JIXIAO_INSTANCE_PATH"] = instance_path
        settings = {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                    "SECRET_KEY": "testing-secret", **config}
        return create_app(settings)

    return factory


@pytest.fixture(scope="session")
def app(make_app):
    """The app with the schema migrated and the small demo data loaded."""
    from flask_migrate import upgrade

    app = make_app()
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["jixiao", "seed-demo", "--scale", "small"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def client(app):
    return app.test_client()


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html: str) -> str:
    m = _TOKEN.search(html)
    assert m, "no csrf_token on the page"
    return m.group(1) or m.group(2)


def do_login(client, username: str, password: str = DEMO_PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.text)})


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
