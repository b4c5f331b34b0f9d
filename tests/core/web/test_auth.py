"""Authentication hardening: lockout, cookies, session fixation, ended sessions, hashes, redirects.

(The basic login/logout flows are in test_login.py.) Each test that changes an
account works on a user of its own, so the demo users stay as they are.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import quote, urlparse

import pytest
from argon2 import PasswordHasher
from openpyxl import load_workbook
from sqlalchemy import delete, select, text

from core.extensions import db
from core.models import OrgUnit, Role, User, utcnow
from tests.support import csrf_from, do_login

PASSWORD = "Correct-horse-9"  # noqa: S105


@pytest.fixture
def make_user(app):
    """``make_user(active=True)`` → the username of a fresh unit user of D01U01
    (``role=``/``org=`` for another role or org unit)."""
    made: list[str] = []

    def _make(active: bool = True, role: str = "unit_user", org: str = "D01U01") -> str:
        username = f"auth_{secrets.token_hex(4)}"
        with app.app_context():
            user = User(username=username, full_name="认证测试用户",
                        role=db.session.scalar(select(Role).where(Role.name == role)),
                        org_unit=db.session.scalar(select(OrgUnit).where(OrgUnit.code == org)),
                        active=active, session_token=secrets.token_hex(16))
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
        made.append(username)
        return username

    yield _make
    with app.app_context():
        db.session.execute(delete(User).where(User.username.in_(made)))
        db.session.commit()


def _user_row(app, username: str) -> dict:
    with app.app_context(), db.engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT id, password_hash, session_token, failed_logins, locked_until, active "
            "FROM user_account WHERE username = :u"), {"u": username}).mappings().one())


def _english(client):
    client.get("/lang/en")
    return client


def _logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


# --- lockout --------------------------------------------------------------------------------


def test_lockout_after_max_failures_even_for_the_right_password(app, client, make_user):
    username = make_user()
    _english(client)
    limit = app.config["LOGIN_MAX_FAILURES"]
    for attempt in range(limit):
        r = do_login(client, username, f"wrong-{attempt}")
        assert "Wrong username or password." in r.text
    assert _user_row(app, username)["locked_until"] is not None

    r = do_login(client, username, PASSWORD)
    assert r.status_code != 302
    assert "This account is locked after too many failed logins" in r.text
    assert not _logged_in(client)

    with app.app_context():  # the lock has run out
        db.session.execute(text("UPDATE user_account SET locked_until = :t WHERE username = :u"),
                           {"t": utcnow() - timedelta(seconds=1), "u": username})
        db.session.commit()
    assert do_login(client, username, PASSWORD).status_code == 302
    assert _logged_in(client)
    row = _user_row(app, username)
    assert row["failed_logins"] == 0 and row["locked_until"] is None


def test_failures_below_the_limit_do_not_lock(app, client, make_user):
    username = make_user()
    for attempt in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        do_login(client, username, f"wrong-{attempt}")
    assert do_login(client, username, PASSWORD).status_code == 302
    assert _user_row(app, username)["failed_logins"] == 0


def test_inactive_user_is_refused(app, client, make_user):
    username = make_user(active=False)
    _english(client)
    r = do_login(client, username, "not-the-password")
    assert "Wrong username or password." in r.text  # nothing said about the account
    r = do_login(client, username, PASSWORD)
    assert r.status_code != 302
    assert "This account is disabled." in r.text
    assert not _logged_in(client)


def test_deactivating_a_user_ends_their_session(app, client, make_user):
    username = make_user()
    assert do_login(client, username, PASSWORD).status_code == 302
    assert _logged_in(client)
    with app.app_context():
        db.session.execute(text("UPDATE user_account SET active = :f WHERE username = :u"),
                           {"f": False, "u": username})
        db.session.commit()
    r = client.get("/admin/")
    assert r.status_code == 302 and "/login" in r.location


# --- cookies and sessions -------------------------------------------------------------------


def _set_cookies(response) -> dict[str, str]:
    """{cookie name: the whole Set-Cookie header} of a response."""
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def _flags(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_session_and_remember_cookies_are_httponly_and_lax(client, make_user):
    username = make_user()
    page = client.get("/login")
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "remember": "y", "csrf_token": csrf_from(page.text)})
    assert r.status_code == 302
    cookies = _set_cookies(r)
    for name in ("session", "remember_token"):
        assert name in cookies, name
        assert {"httponly", "samesite=lax"} <= _flags(cookies[name]), cookies[name]
        assert "secure" not in _flags(cookies[name])  # plain http in development


def test_cookies_are_secure_in_production(make_app, make_user):
    prod = make_app(ENV_OBJECT="production", SECRET_KEY=secrets.token_hex(32))
    assert prod.config["PRODUCTION"] is True
    username = make_user()
    client = prod.test_client()
    https = {"base_url": "https://localhost"}
    page = client.get("/login", **https)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "remember": "y",
                                    "csrf_token": csrf_from(page.text)},
                    headers={"Referer": "https://localhost/login"}, **https)
    assert r.status_code == 302, r.text
    cookies = _set_cookies(r)
    for name in ("session", "remember_token"):
        assert {"secure", "httponly", "samesite=lax"} <= _flags(cookies[name]), cookies[name]


def test_login_starts_a_fresh_session(client, make_user):
    username = make_user()
    page = client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        sess["locale"] = "en"
    before = client.get_cookie("session").value
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": csrf_from(page.text)})
    assert r.status_code == 302
    assert client.get_cookie("session").value != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["locale"] == "en"  # the language choice survives


# --- ending other sessions ------------------------------------------------------------------


class _FormFields(HTMLParser):
    """The fields of Flask-Admin's edit form (``class="admin-form"``), as a browser would post."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_form = "admin-form" in (a.get("class") or "")
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") != "submit":
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.fields[name] = a.get("value", "y")
            elif a.get("data-role") == "select2-ajax" and a.get("data-json"):
                self.fields[name] = str(json.loads(a["data-json"])[0])
            else:
                self.fields[name] = a.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def _edit_form(html: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(html)
    return parser.fields


def test_a_password_change_ends_the_users_other_sessions(app, login, make_user):
    username = make_user()
    other = app.test_client()
    page = other.get("/login")
    assert other.post("/login", data={"username": username, "password": PASSWORD,
                                      "remember": "y", "csrf_token": csrf_from(page.text)}
                      ).status_code == 302
    assert _logged_in(other)
    before = _user_row(app, username)

    finance = login("finance")
    edit = f"/admin/user/edit/?id={before['id']}"
    fields = _edit_form(finance.get(edit).text)
    assert fields["username"] == username
    new_password = "A-new-Passw0rd!"
    r = finance.post(edit, data={**fields, "new_password": new_password})
    assert r.status_code == 302, r.text

    after = _user_row(app, username)
    assert after["session_token"] != before["session_token"]
    assert after["password_hash"].startswith("$argon2id$")
    assert PasswordHasher().verify(after["password_hash"], new_password)
    r = other.get("/admin/")
    assert r.status_code == 302 and "/login" in r.location  # session and remember cookie both end
    assert do_login(app.test_client(), username, PASSWORD).status_code != 302
    assert do_login(app.test_client(), username, new_password).status_code == 302


def test_a_new_session_token_ends_sessions_kept_by_the_remember_cookie(app, client, make_user):
    username = make_user()
    page = client.get("/login")
    client.post("/login", data={"username": username, "password": PASSWORD, "remember": "y",
                                "csrf_token": csrf_from(page.text)})
    client.delete_cookie("session")  # the browser was closed: only the remember cookie is left
    assert _logged_in(client)
    client.delete_cookie("session")
    with app.app_context():
        db.session.execute(text("UPDATE user_account SET session_token = :t WHERE username = :u"),
                           {"t": secrets.token_hex(16), "u": username})
        db.session.commit()
    assert not _logged_in(client)


# --- stored passwords -----------------------------------------------------------------------


def test_passwords_are_stored_as_argon2_hashes(app, make_user):
    from plugins.system.demo import DEMO_PASSWORD

    username = make_user()
    with app.app_context(), db.engine.connect() as conn:
        hashes = dict(conn.execute(text("SELECT username, password_hash FROM user_account")).all())
        audit = conn.execute(text("SELECT before, after FROM audit_log "
                                  "WHERE object_type = 'user_account' OR object_type = 'User'"))
        audit_text = " ".join(f"{b} {a}" for b, a in audit)
    assert hashes
    # an account made by another test without a password (a job's system user) has none
    for name, stored in ((n, s) for n, s in hashes.items() if s):
        assert stored.startswith("$argon2id$"), name
        assert DEMO_PASSWORD not in stored and PASSWORD not in stored
    assert PasswordHasher().verify(hashes[username], PASSWORD)
    assert "$argon2" not in audit_text  # the audit log never holds a hash in clear


def test_admin_pages_never_show_hashes_or_session_tokens(app, login, make_user):
    username = make_user()
    row = _user_row(app, username)
    finance = login("finance")
    pages = [f"/admin/user/details/?id={row['id']}", f"/admin/user/edit/?id={row['id']}",
             "/admin/user/?search=" + username, "/admin/user/export/csv/"]
    for page in pages:
        r = finance.get(page)
        assert r.status_code == 200, page
        body = r.get_data(as_text=True)
        assert "$argon2" not in body and row["session_token"] not in body, page
    xlsx = finance.get("/admin/user/export/xlsx/")
    assert xlsx.status_code == 200
    cells = [str(c) for r in load_workbook(BytesIO(xlsx.data), read_only=True).worksheets[0]
             .iter_rows(values_only=True) for c in r]
    assert username in cells
    assert not any("$argon2" in c or row["session_token"] in c for c in cells)


# --- redirects after login ------------------------------------------------------------------


EVIL = ["https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
        "/\t/evil.example", "https:evil.example", "javascript:alert(1)", "/\n/evil.example",
        "http://localhost.evil.example/"]


def _is_local(location: str) -> bool:
    """Would a browser stay on this site? (It reads "\\" as "/" and drops tabs and newlines.)"""
    browser = "".join(ch for ch in location if ch not in "\t\r\n").replace("\\", "/")
    parsed = urlparse(browser)
    return parsed.netloc in ("", "localhost") and not browser.startswith("//") and \
        browser.startswith(("/", "http://localhost/"))


@pytest.mark.parametrize("target", EVIL)
def test_login_does_not_redirect_off_site(app, make_user, target):
    username = make_user()
    client = app.test_client()
    page = client.get(f"/login?next={quote(target, safe='')}")
    r = client.post(f"/login?next={quote(target, safe='')}",
                    data={"username": username, "password": PASSWORD,
                          "csrf_token": csrf_from(page.text)})
    assert r.status_code == 302
    assert _is_local(r.location), r.location
    r = client.get(f"/login?next={quote(target, safe='')}")  # already logged in
    assert r.status_code == 302 and _is_local(r.location), r.location


def test_login_follows_a_local_next(client, make_user):
    username = make_user()
    page = client.get("/login?next=/admin/budgetitem/%3Fsearch%3DD01")
    r = client.post("/login?next=/admin/budgetitem/%3Fsearch%3DD01",
                    data={"username": username, "password": PASSWORD,
                          "csrf_token": csrf_from(page.text)})
    assert r.status_code == 302
    assert r.location == "/admin/budgetitem/?search=D01"


# --- logout ---------------------------------------------------------------------------------


def test_after_logout_a_copy_of_the_old_cookies_no_longer_works(app, client, make_user):
    username = make_user()
    page = client.get("/login")
    client.post("/login", data={"username": username, "password": PASSWORD, "remember": "y",
                                "csrf_token": csrf_from(page.text)})
    assert _logged_in(client)
    stolen = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    r = client.post("/logout", data={"csrf_token": csrf_from(client.get("/admin/").text)})
    assert r.status_code == 302 and "/login" in r.location
    assert not _logged_in(client)

    replay = app.test_client()
    for name, value in stolen.items():
        replay.set_cookie(name, value)
    assert not _logged_in(replay)  # the session cookie copied before the logout
    replay.delete_cookie("session")
    assert not _logged_in(replay)  # the remember cookie alone
    assert do_login(app.test_client(), username, PASSWORD).status_code == 302  # logs in again


@pytest.mark.parametrize("role", ["expert", "agency_user"])
def test_an_outside_role_with_an_org_unit_can_log_out(app, client, make_user, role):
    """An expert or agency user kept an org unit (set before their role changed): the new
    session token is written all the same and the logout ends the session."""
    username = make_user(role=role, org="D01")
    before = _user_row(app, username)["session_token"]
    assert do_login(client, username, PASSWORD).status_code == 302
    r = client.post("/logout", data={"csrf_token": csrf_from(client.get("/", follow_redirects=True).text)})
    assert r.status_code == 302 and "/login" in r.location
    assert _user_row(app, username)["session_token"] != before
    assert client.get("/portal/" if role == "agency_user" else "/admin/").status_code == 302


def test_a_login_after_a_logout_carries_a_new_session_identity(app, make_user):
    username = make_user()
    seen = set()
    for _ in range(2):
        c = app.test_client()
        assert do_login(c, username, PASSWORD).status_code == 302
        with c.session_transaction() as sess:
            seen.add(sess["_user_id"])
        c.post("/logout", data={"csrf_token": csrf_from(c.get("/admin/").text)})
    assert len(seen) == 2  # the identity in the cookie is new each time, not reusable
