""""My API tokens" in the admin: create (plaintext shown once), list, rename, revoke — own only."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from core.extensions import db
from core.models import ApiToken, User, utcnow
from tests.support import csrf_from

ITEMS = "/api/v1/budget-items"
NEW_TOKEN = re.compile(r'class="form-control text-monospace jixiao-new-token" readonly '
                       r'value="(jx_[^"]+)"')


def create_in_admin(client, name: str, days: str = ""):
    page = client.get("/admin/api_token/new/")
    assert page.status_code == 200
    return client.post("/admin/api_token/new/", data={
        "name": name, "expires_days": days, "csrf_token": csrf_from(page.text)})


def tokens_of(app, username: str) -> list[ApiToken]:
    with app.app_context():
        rows = db.session.scalars(select(ApiToken).join(User).where(User.username == username)
                                  .order_by(ApiToken.id)).all()
        db.session.expunge_all()
        return rows


def test_created_token_is_shown_once_and_works(app, login):
    client = login("unit0102")
    r = create_in_admin(client, "report script", "30")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    plaintext = NEW_TOKEN.search(r.text).group(1)
    row = tokens_of(app, "unit0102")[-1]
    assert row.name == "report script" and plaintext.startswith(row.prefix)
    assert timedelta(days=29, hours=23) < row.expires_at - utcnow() <= timedelta(days=30)
    api = app.test_client().get(ITEMS, headers={"Authorization": f"Bearer {plaintext}"})
    assert api.status_code == 200
    listing = client.get("/admin/api_token/")
    assert row.prefix in listing.text and plaintext not in listing.text
    details = client.get(f"/admin/api_token/details/?id={row.id}")
    assert details.status_code == 200 and plaintext not in details.text


def test_bad_expiry_is_refused_and_creates_nothing(app, login):
    client = login("unit0102")
    before = len(tokens_of(app, "unit0102"))
    for days in ("0", "3651", "ten", "-1"):
        r = create_in_admin(client, "bad expiry", days)
        assert r.status_code == 200 and not NEW_TOKEN.search(r.text), days
        assert 'id="expires_days"' in r.text and "is-invalid" in r.text, days
    too_long = create_in_admin(client, "x" * 101)
    assert not NEW_TOKEN.search(too_long.text)
    assert len(tokens_of(app, "unit0102")) == before


def test_creating_needs_the_csrf_token(app, login):
    client = login("unit0102")
    before = len(tokens_of(app, "unit0102"))
    r = client.post("/admin/api_token/new/", data={"name": "no csrf"})
    assert r.status_code == 400
    assert len(tokens_of(app, "unit0102")) == before


def test_revoke_action_stops_the_token(app, login):
    client = login("unit0102")
    plaintext = NEW_TOKEN.search(create_in_admin(client, "to revoke").text).group(1)
    row = tokens_of(app, "unit0102")[-1]
    r = client.post("/admin/api_token/action/", data={
        "action": "revoke", "rowid": [str(row.id)],
        "csrf_token": csrf_from(client.get("/admin/api_token/").text)})
    assert r.status_code == 302
    api = app.test_client().get(ITEMS, headers={"Authorization": f"Bearer {plaintext}"})
    assert api.status_code == 401 and api.get_json()["details"] == {"reason": "revoked"}


def test_users_see_and_revoke_only_their_own_tokens(app, login):
    finance = login("finance")
    plaintext = NEW_TOKEN.search(create_in_admin(finance, "finance only").text).group(1)
    theirs = tokens_of(app, "finance")[-1]
    dept = login("dept01")
    assert f"?id={theirs.id}&" not in dept.get("/admin/api_token/").text
    assert dept.get(f"/admin/api_token/details/?id={theirs.id}").status_code == 302
    assert dept.get(f"/admin/api_token/edit/?id={theirs.id}").status_code == 302
    dept.post("/admin/api_token/action/", data={
        "action": "revoke", "rowid": [str(theirs.id)],
        "csrf_token": csrf_from(dept.get("/admin/api_token/").text)})
    with app.app_context():
        assert db.session.get(ApiToken, theirs.id).revoked_at is None
    api = app.test_client().get(ITEMS, headers={"Authorization": f"Bearer {plaintext}"})
    assert api.status_code == 200
    # the finance bureau sees everything else, but not other people's tokens
    with app.app_context():
        others = db.session.scalar(select(func.min(ApiToken.id)).join(User)
                                   .where(User.username != "finance"))
    if others is not None:
        assert finance.get(f"/admin/api_token/details/?id={others}").status_code == 302


def test_rename_keeps_the_token_working(app, login):
    client = login("unit0102")
    plaintext = NEW_TOKEN.search(create_in_admin(client, "old name").text).group(1)
    row = tokens_of(app, "unit0102")[-1]
    page = client.get(f"/admin/api_token/edit/?id={row.id}")
    assert page.status_code == 200 and 'name="expires_days"' not in page.text
    r = client.post(f"/admin/api_token/edit/?id={row.id}", data={
        "name": "new name", "csrf_token": csrf_from(page.text)})
    assert r.status_code == 302
    assert tokens_of(app, "unit0102")[-1].name == "new name"
    api = app.test_client().get(ITEMS, headers={"Authorization": f"Bearer {plaintext}"})
    assert api.status_code == 200


def test_viewer_has_no_tokens_page(login):
    client = login("viewer")
    assert 'href="/admin/api_token/"' not in client.get("/admin/").text
    assert client.get("/admin/api_token/").status_code == 403
    assert client.get("/admin/api_token/new/").status_code == 403
    assert 'href="/admin/api_token/"' in login("agency01").get("/admin/").text
