"""Several app servers behind a load balancer need no sticky sessions.

Two apps built like two servers (same database, same SECRET_KEY) take turns
serving one browser: the login form of one is posted to the other, and the
session made by one is honoured by the other. A server with another key does
not accept it: every server must have the same JIXIAO_SECRET_KEY.
"""

from __future__ import annotations

from flask import Flask

from plugins.system.demo import DEMO_PASSWORD
from tests.support import csrf_from

SESSION = "session"


def carry_cookie(from_client, to_client) -> None:
    """What a browser does: send the cookie it got from one server to the next one."""
    cookie = from_client.get_cookie(SESSION)
    assert cookie is not None
    to_client.set_cookie(SESSION, cookie.value)


def test_any_server_serves_any_request_with_the_same_secret_key(app, make_app):
    server_a: Flask = make_app(SECRET_KEY="shared-" + "s" * 40)
    server_b: Flask = make_app(SECRET_KEY="shared-" + "s" * 40)
    a, b = server_a.test_client(), server_b.test_client()

    form = a.get("/login")
    carry_cookie(a, b)
    logged_in = b.post("/login", data={"username": "dept01", "password": DEMO_PASSWORD,
                                       "csrf_token": csrf_from(form.text)})
    carry_cookie(b, a)
    home_on_a = a.get("/admin/")

    assert logged_in.status_code == 302 and "/login" not in logged_in.headers["Location"]
    assert home_on_a.status_code == 200
    assert "区教育局" in home_on_a.text  # dept01's department, on the welcome card


def test_a_server_with_another_secret_key_does_not_accept_the_session(app, make_app):
    server_a = make_app(SECRET_KEY="shared-" + "s" * 40)
    stray = make_app(SECRET_KEY="another-" + "k" * 40)
    a, c = server_a.test_client(), stray.test_client()
    form = a.get("/login")
    a.post("/login", data={"username": "dept01", "password": DEMO_PASSWORD,
                           "csrf_token": csrf_from(form.text)})

    carry_cookie(a, c)
    page = c.get("/admin/")

    assert page.status_code == 302 and "/login" in page.headers["Location"]
