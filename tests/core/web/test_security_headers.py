"""Security headers on every kind of response, and a CSP that still lets our pages' scripts run.

The CSP test reads real pages the way a browser applies the policy: every inline
script must carry this response's nonce, every inline event handler (and
``javascript:`` link) must be allowed by its hash, and every script file must come
from this site. A Flask-Admin upgrade that changes an inline handler fails here
instead of silently breaking a button in the browser.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

import pytest
from flask import url_for

from tests.support import bearer, new_token

BASE_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_secure_headers(response):
    for name, value in BASE_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    csp = _csp(response)
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert "Strict-Transport-Security" not in response.headers  # plain http here


def test_the_login_page_has_the_headers(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert_secure_headers(response)


def test_an_admin_page_has_the_headers(login):
    response = login("finance").get("/admin/user/")
    assert response.status_code == 200
    assert_secure_headers(response)


def test_api_responses_have_the_headers(app, client):
    refused = client.get("/api/v1/budget-items")
    assert refused.status_code == 401
    assert_secure_headers(refused)
    ok = client.get("/api/v1/budget-items", headers=bearer(new_token(app, "dept01")))
    assert ok.status_code == 200
    assert_secure_headers(ok)


def test_the_public_disclosure_page_has_the_headers(client):
    response = client.get("/disclosure/")
    assert response.status_code == 200
    assert_secure_headers(response)


def test_hsts_only_when_served_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://localhost")
    max_age = secure.headers["Strict-Transport-Security"].split(";")[0]
    assert max_age.startswith("max-age=") and int(max_age[8:]) >= 365 * 24 * 3600


def test_each_response_gets_its_own_nonce(client):
    nonces = {next(v for v in _csp(client.get("/login"))["script-src"] if v.startswith("'nonce-"))
              for _ in range(3)}
    assert len(nonces) == 3


# --- does the CSP let the pages' own scripts run? ---------------------------------------------

class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline_scripts: list[str | None] = []  # their nonce attributes
        self.script_files: list[str] = []
        self.handlers: list[str] = []  # onclick=… bodies and javascript: links

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.script_files.append(a["src"])
            else:
                self.inline_scripts.append(a.get("nonce"))
        for name, value in attrs:
            if name.startswith("on") and value is not None:
                self.handlers.append(value)
            elif name == "href" and (value or "").startswith("javascript:"):
                self.handlers.append(value)


def _hash(source: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()}'"


def _pages(app) -> list[tuple[str | None, str]]:
    """(user or None for nobody, path) of pages that together carry every kind of inline script we have."""
    with app.test_request_context():
        return [
            ("finance", "/admin/"),
            ("finance", "/admin/user/"),  # list: delete confirm, filters, tabs
            ("finance", "/admin/user/new/"),  # form widgets (select2)
            ("finance", "/admin/role/new/"),  # an inline form list
            ("finance", "/admin/notification/"),  # a list with more actions than delete
            ("finance", url_for("fee_quote.reconciliation")),  # onchange submit
            ("finance", url_for("fee_quote.calculate")),  # print button
            ("agency01", "/portal/"),  # the agency portal
            (None, "/login"),
            (None, "/disclosure/"),  # the public pages
        ]


@pytest.mark.parametrize("language", ["zh_Hans_CN", "en"])
def test_every_inline_script_on_our_pages_is_allowed_by_the_csp(app, login, language):
    checked_handlers = 0
    for username, path in _pages(app):
        client = login(username) if username else app.test_client()
        client.get(f"/lang/{language}")
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        script_src = _csp(response)["script-src"]
        nonce = next(v for v in script_src if v.startswith("'nonce-"))[len("'nonce-"):-1]
        page = _Scripts()
        page.feed(response.text)
        for found in page.inline_scripts:
            assert found == nonce, f"{path}: an inline <script> without this response's nonce"
        for src in page.script_files:
            assert src.startswith("/") and not src.startswith("//"), f"{path}: script from {src}"
        for handler in page.handlers:
            assert _hash(handler) in script_src, f"{path}: inline handler {handler!r} is blocked"
        checked_handlers += len(page.handlers)
    assert checked_handlers > 0  # the pages do carry handlers: the check above ran
