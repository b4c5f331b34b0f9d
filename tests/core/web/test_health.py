"""``/healthz`` for the load balancer, and ``TRUSTED_PROXIES`` (werkzeug's ProxyFix)."""

from __future__ import annotations

from pathlib import Path

from flask import request
from sqlalchemy.engine import make_url


def unreachable_url(database_url: str, tmp_path: Path) -> str:
    """A URL of the run's backend where no database answers."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-dir' / 'jixiao.sqlite3'}"
    return make_url(database_url).set(port=1).render_as_string(hide_password=False)


def test_healthz_answers_ok_without_login_and_sets_no_cookie(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_healthz_is_503_when_the_database_does_not_answer(make_app, database_url, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=unreachable_url(database_url, tmp_path))

    response = app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    assert "no-such-dir" not in response.text and "port" not in response.text


def _echo_app(make_app, **config):
    app = make_app(**config)

    @app.get("/_test/remote")
    def remote():
        return {"addr": request.remote_addr, "scheme": request.scheme, "host": request.host}

    return app


PROXY_HEADERS = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                 "X-Forwarded-Host": "jixiao.example.gov.cn"}


def test_behind_one_proxy_the_forwarded_client_scheme_and_host_are_used(make_app):
    app = _echo_app(make_app, TRUSTED_PROXIES=1)
    client = app.test_client()

    seen = client.get("/_test/remote", headers=PROXY_HEADERS,
                      environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()
    login = client.get("/login", headers=PROXY_HEADERS)

    assert seen == {"addr": "203.0.113.7", "scheme": "https", "host": "jixiao.example.gov.cn"}
    assert login.headers["Strict-Transport-Security"].startswith("max-age=")


def test_without_proxy_hops_forwarded_headers_are_ignored(make_app):
    app = _echo_app(make_app)  # TRUSTED_PROXIES defaults to 0: clients talk to gunicorn directly
    client = app.test_client()

    seen = client.get("/_test/remote", headers=PROXY_HEADERS,
                      environ_base={"REMOTE_ADDR": "198.51.100.9"}).get_json()

    assert seen == {"addr": "198.51.100.9", "scheme": "http", "host": "localhost"}


def test_only_the_configured_number_of_hops_is_trusted(make_app):
    app = _echo_app(make_app, TRUSTED_PROXIES=1)

    seen = app.test_client().get(
        "/_test/remote", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"}).get_json()

    assert seen["addr"] == "203.0.113.7"  # the client-supplied first value is not believed


def test_behind_two_proxies_only_the_outermost_sets_scheme_and_host(make_app):
    """A load balancer (TLS) then nginx: both append to X-Forwarded-For, the load balancer
    alone sets -Proto/-Host and nginx passes them on (docs/operations.md)."""
    app = _echo_app(make_app, TRUSTED_PROXIES=2)
    headers = {"X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.0.0.1",  # forged, client, LB
               "X-Forwarded-Proto": "https", "X-Forwarded-Host": "jixiao.example.gov.cn"}

    seen = app.test_client().get("/_test/remote", headers=headers,
                                 environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()

    assert seen == {"addr": "203.0.113.7", "scheme": "https", "host": "jixiao.example.gov.cn"}


def test_the_access_log_shows_the_trusted_client_address(make_app):
    """gunicorn logs ``%(h)s``, the REMOTE_ADDR of the environ after the app ran: the
    address ProxyFix trusted, never the client-supplied start of X-Forwarded-For."""
    from werkzeug.test import EnvironBuilder

    namespace: dict = {}
    exec((Path(__file__).parents[3] / "config" / "gunicorn.conf.py").read_text(), namespace)
    assert namespace["access_log_format"].startswith("%(h)s ")
    assert "forwarded" not in namespace["access_log_format"].lower()

    app = make_app(TRUSTED_PROXIES=1)
    environ = EnvironBuilder(path="/healthz", headers={
        "X-Forwarded-For": "6.6.6.6, 203.0.113.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_environ()
    b"".join(app(environ, lambda status, headers, exc_info=None: None))
    assert environ["REMOTE_ADDR"] == "203.0.113.7"
