"""CSRF: every state-changing endpoint refuses a request without a token, and writes nothing.

The endpoints are discovered: every admin URL that accepts POST (create, edit,
delete, action, ajax update and whatever a plugin exposes), /login, /logout
and every /api/v1 route with an unsafe method. Each is called as a logged-in
finance user (who may do everything) with data that would change a row, but
without a token: 400, and the whole database is byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
import secrets

import pytest
from sqlalchemy import delete, select, text

from core.extensions import db
from core.models import BudgetItem
from core.web.api import ApiBlueprint, requires
from tests.core.matrix_support import api_routes
from tests.support import csrf_from, do_login

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def fingerprint(app) -> str:
    """A hash of every row of every table."""
    digest = hashlib.sha256()
    with app.app_context(), db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = ", ".join(c.name for c in table.primary_key.columns) or "1"
            for row in conn.execute(text(f"SELECT * FROM {table.name} ORDER BY {order}")):  # noqa: S608
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _ids(app) -> dict:
    with app.app_context(), db.engine.connect() as conn:
        return {
            "item": conn.execute(text("SELECT MIN(id) FROM budget_item")).scalar(),
            "org": conn.execute(text("SELECT id FROM org_unit WHERE code = 'D01U01'")).scalar(),
            "year": conn.execute(text("SELECT MAX(id) FROM fiscal_year")).scalar(),
        }


def _item_form(ids: dict, code: str) -> dict:
    return {"code": code, "name": "CSRF 测试项目", "fiscal_year": str(ids["year"]),
            "org_unit": str(ids["org"]), "kind": "project", "budget_type": "general_public",
            "amount": "1234.56", "contractor": "", "description": ""}


def _admin_posts(app, ids: dict):
    """(url, form data) for every admin URL that accepts POST, with data that would write."""
    for view in app.extensions["jixiao_admin"]._views:
        base = view.url.rstrip("/")
        model_id = ids["item"] if getattr(view, "model", None) is BudgetItem else 1
        for url, name, methods in view._urls:
            if "POST" not in methods:
                continue
            path = base + url.replace("<", "").replace(">", "")
            data = {**_item_form(ids, f"CSRF-{secrets.token_hex(3)}"), "id": str(model_id),
                    "rowid": str(model_id), "action": "delete", "list_form_pk": str(model_id),
                    "name": "CSRF changed"}
            if name == "edit_view":
                path += f"?id={model_id}"
            yield f"{view.endpoint}.{name}", path, data


@pytest.fixture
def finance(app):
    client = app.test_client()
    assert do_login(client, "finance").status_code == 302
    return client


def test_admin_posts_without_token_are_refused(app, finance):
    ids = _ids(app)
    endpoints = list(_admin_posts(app, ids))
    names = {e for e, _p, _d in endpoints}
    assert {"budgetitem.create_view", "budgetitem.edit_view", "budgetitem.delete_view",
            "budgetitem.action_view", "budgetitem.ajax_update"} <= names
    problems = []
    for endpoint, path, data in endpoints:
        before = fingerprint(app)
        r = finance.post(path, data=data)
        if r.status_code != 400:
            problems.append(f"{endpoint} POST {path}: status {r.status_code}, expected 400")
        if fingerprint(app) != before:
            problems.append(f"{endpoint} POST {path}: the database changed")
    assert not problems, "\n".join(problems)


def test_the_same_create_works_with_a_token(app, finance):
    ids = _ids(app)
    code = f"CSRF-OK-{secrets.token_hex(3)}"
    token = csrf_from(finance.get("/admin/budgetitem/new/").text)
    try:
        r = finance.post("/admin/budgetitem/new/", data={**_item_form(ids, code),
                                                          "csrf_token": token})
        assert r.status_code == 302
        with app.app_context():
            item = db.session.scalar(select(BudgetItem).where(BudgetItem.code == code))
            assert item is not None and str(item.amount) == "1234.56"
    finally:
        with app.app_context():
            db.session.execute(delete(BudgetItem).where(BudgetItem.code == code))
            db.session.commit()


def test_login_without_token_is_refused(app, client, finance):
    before = fingerprint(app)
    r = client.post("/login", data={"username": "finance", "password": "Jixiao@2026"})
    assert r.status_code == 400
    assert client.get("/admin/").status_code == 302  # still anonymous
    r = finance.post("/login", data={"username": "dept01", "password": "Jixiao@2026"})
    assert r.status_code == 400
    assert fingerprint(app) == before


def test_logout_without_token_is_refused(app, finance):
    r = finance.post("/logout")
    assert r.status_code == 400
    assert finance.get("/admin/").status_code == 200  # still logged in


def _api_unsafe(app):
    for rule in api_routes(app):
        for method in sorted(set(rule.methods) & set(UNSAFE)):
            yield rule, method


def test_api_unsafe_methods_without_token_are_refused(app, finance):
    ids = _ids(app)
    problems = []
    for rule, method in _api_unsafe(app):
        path = rule.build({a: ids["item"] for a in rule.arguments}, append_unknown=False)[1]
        before = fingerprint(app)
        r = finance.open(path, method=method, json={"name": "CSRF changed"})
        if r.status_code != 400 or (r.get_json() or {}).get("code") != "csrf":
            problems.append(f"{method} {path}: status {r.status_code}, expected 400 csrf")
        if fingerprint(app) != before:
            problems.append(f"{method} {path}: the database changed")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("method", UNSAFE)
def test_api_blueprint_checks_the_token_on_unsafe_methods(make_app, app, method):
    """Any ApiBlueprint route (core or plugin) gets the check, whatever its method."""
    probe_app = make_app()
    blp = ApiBlueprint("csrf_probe", __name__, url_prefix="/api/v1/csrf-probe")

    @blp.route("/<int:item_id>", methods=[method])
    @requires("budget_item.edit")
    def rename(item_id: int):
        item = db.session.get(BudgetItem, item_id)
        item.name = f"renamed by {method}"
        db.session.commit()
        return {"id": item.id}

    probe_app.extensions["jixiao_api"].register_blueprint(blp)
    assert any(rule.rule.startswith("/api/v1/csrf-probe") for rule, _m in _api_unsafe(probe_app))
    ids = _ids(app)
    with app.app_context():
        old_name = db.session.get(BudgetItem, ids["item"]).name
    client = probe_app.test_client()
    assert do_login(client, "finance").status_code == 302
    before = fingerprint(app)
    r = client.open(f"/api/v1/csrf-probe/{ids['item']}", method=method)
    assert r.status_code == 400 and r.get_json()["code"] == "csrf"
    r = client.open(f"/api/v1/csrf-probe/{ids['item']}", method=method,
                    headers={"X-CSRFToken": "forged"})
    assert r.status_code == 400 and r.get_json()["code"] == "csrf"
    assert fingerprint(app) == before
    token = csrf_from(client.get("/admin/").text)
    r = client.open(f"/api/v1/csrf-probe/{ids['item']}", method=method,
                    headers={"X-CSRFToken": token})
    assert r.status_code == 200, r.get_data(as_text=True)
    with app.app_context():
        item = db.session.get(BudgetItem, ids["item"])
        assert item.name == f"renamed by {method}"
        item.name = old_name
        db.session.commit()
