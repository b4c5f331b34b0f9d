"""PostgreSQL restarts under a running app: the app serves again without being restarted.

The test owns the database server: a private PostgreSQL 15 cluster (initdb into a
temporary directory, a free loopback port), never the shared one. The app runs
as in production (``JIXIAO_ENV=production``: gunicorn, two workers, its
connection pools with ``pool_pre_ping``). After the workers hold pooled
connections the cluster is stopped (every connection dropped), a request then
fails cleanly and quickly, and the cluster is started again: from the very next
request on everything answers as before, served by the same worker processes.
"""

from __future__ import annotations

import secrets

import pytest
import requests

from config import production
from tests.faults.support import Gunicorn, PrivatePostgres, app_env, pg_missing
from tests.support import csrf_from

pytestmark = pytest.mark.skipif(pg_missing() is not None, reason=pg_missing() or "")

PASSWORD = "Restart-" + secrets.token_hex(6)


@pytest.fixture
def cluster():
    pg = PrivatePostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


def prepare(make_app, url: str) -> str:
    """Schema, roles, the bureau, one finance user and an API token of theirs; the token."""
    from core.extensions import db
    from core.models import OrgKind, OrgUnit

    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jixiao", "init-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.session.add(OrgUnit(code="CZJ", name="区财政局", kind=OrgKind.FINANCE_BUREAU))
        db.session.commit()
    for args, stdin in ((["jixiao", "user", "create", "fin", "--role", "finance_admin",
                          "--org", "CZJ",
                          "--password-stdin"], PASSWORD + "\n"),
                        (["jixiao", "token", "create", "fin", "--name", "restart test"], None)):
        result = runner.invoke(args=args, input=stdin)
        assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()
    return result.stdout.strip().splitlines()[-1]


def api_read(server: Gunicorn, token: str) -> requests.Response:
    return requests.get(server.url + "/api/v1/budget-items", timeout=60,
                        headers={"Authorization": f"Bearer {token}"})


def login(server: Gunicorn) -> int:
    """The login form as a browser sends it (reads the user, writes the session token)."""
    session = requests.Session()
    page = session.get(server.url + "/login", timeout=60)
    return session.post(server.url + "/login", allow_redirects=False, timeout=60, data={
        "username": "fin", "password": PASSWORD, "csrf_token": csrf_from(page.text)}).status_code


def test_the_app_recovers_from_a_database_restart_without_a_restart(
        cluster, make_app, instance_path, tmp_path):
    assert production.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is True
    token = prepare(make_app, cluster.url)
    # production settings, but plain http on loopback: cookies need not be "Secure" here
    env = app_env(cluster.url, instance_path, JIXIAO_ENV="production",
                  JIXIAO_SECRET_KEY=secrets.token_hex(16), JIXIAO_SESSION_COOKIE_SECURE="0")
    server = Gunicorn("wsgi:app", env, tmp_path / "gunicorn.log", workers=2)
    try:
        # every worker gets to hold pooled connections (the accept() race spreads them)
        for _ in range(12):
            assert api_read(server, token).status_code == 200
        assert login(server) == 302
        workers = server.worker_pids()
        assert len(workers) == 2

        cluster.stop("fast")  # the server ends every connection the pools hold
        down = api_read(server, token)
        assert down.status_code == 500  # a clean error, not a hang or a dead worker
        assert down.headers["Content-Type"].startswith("application/json")

        cluster.start()
        answers = [api_read(server, token) for _ in range(12)]
        assert [r.status_code for r in answers] == [200] * 12, answers[0].text[:500]
        assert answers[0].json() == api_read(server, token).json()
        assert login(server) == 302
        assert server.worker_pids() == workers and server.alive()  # nothing was restarted
    finally:
        server.stop()
