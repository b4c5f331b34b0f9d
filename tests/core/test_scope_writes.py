"""Writes stay in scope: budget items cannot be created in, or moved to, another org's subtree.

Through the admin form (the org_unit ajax field with a foreign id), and directly
through the ORM inside a dept_admin's request. Every refusal is checked in the
database, not only in the HTTP answer.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest
from flask_login import login_user
from sqlalchemy import delete, func, select, text

from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgUnit, User
from core.scope import ScopeError, unscoped
from tests.support import csrf_from, do_login


def _ids(app) -> dict:
    """Org and year ids by code, and one budget item of D01U01 (in dept01's subtree)."""
    with app.app_context(), db.engine.connect() as conn:
        orgs = dict(conn.execute(text("SELECT code, id FROM org_unit")).all())
        year = conn.execute(text("SELECT id FROM fiscal_year ORDER BY year DESC")).scalar()
        item = conn.execute(text(
            "SELECT id FROM budget_item WHERE org_unit_id = :o ORDER BY id"),
            {"o": orgs["D01U01"]}).scalar()
    return {"org": orgs, "year": year, "item": item}


def _item_row(app, item_id: int) -> dict:
    with app.app_context(), db.engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT org_unit_id, name, amount, version FROM budget_item WHERE id = :i"),
            {"i": item_id}).mappings().one())


def _count(app, code: str) -> int:
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM budget_item WHERE code = :c"),
                            {"c": code}).scalar()


def _form(token: str, year: int, org: int, code: str, **extra) -> dict:
    return {"csrf_token": token, "code": code, "name": "越权测试项目", "fiscal_year": str(year),
            "org_unit": str(org), "kind": "project", "budget_type": "general_public",
            "amount": "1000.00", "contractor": "", "description": "", **extra}


@pytest.fixture
def cleanup(app):
    codes: list[str] = []
    yield codes
    with app.app_context():
        db.session.execute(delete(BudgetItem).where(BudgetItem.code.in_(codes)))
        db.session.commit()


def test_dept_admin_creates_items_only_in_own_subtree(app, login, cleanup):
    ids = _ids(app)
    c = login("dept01")
    token = csrf_from(c.get("/admin/budgetitem/new/").text)
    foreign = f"SCOPE-X-{secrets.token_hex(3)}"
    cleanup.append(foreign)
    r = c.post("/admin/budgetitem/new/", data=_form(token, ids["year"], ids["org"]["D02U01"],
                                                      foreign))
    assert r.status_code == 200  # the form again, with the error; not a redirect to the list
    assert 'id="org_unit"' in r.text
    assert _count(app, foreign) == 0

    own = f"SCOPE-OK-{secrets.token_hex(3)}"
    cleanup.append(own)
    r = c.post("/admin/budgetitem/new/", data=_form(token, ids["year"], ids["org"]["D01U01"], own))
    assert r.status_code == 302
    assert _count(app, own) == 1


def test_dept_admin_cannot_move_an_item_out_of_their_subtree(app, login):
    ids = _ids(app)
    before = _item_row(app, ids["item"])
    c = login("dept01")
    page = c.get(f"/admin/budgetitem/edit/?id={ids['item']}")
    assert page.status_code == 200
    for target in ("D02U01", "CZJ", "T01"):
        r = c.post(f"/admin/budgetitem/edit/?id={ids['item']}", data=_form(
            csrf_from(page.text), ids["year"], ids["org"][target], "MOVED",
            version=str(before["version"])))
        assert r.status_code == 200, target
        assert _item_row(app, ids["item"]) == before, target


def test_unit_user_cannot_create_edit_or_delete(app, login):
    ids = _ids(app)
    before = _item_row(app, ids["item"])
    c = login("unit0101")
    token = csrf_from(c.get("/admin/budgetitem/").text)
    code = f"SCOPE-U-{secrets.token_hex(3)}"
    r = c.post("/admin/budgetitem/new/", data=_form(token, ids["year"], ids["org"]["D01U01"], code))
    assert r.status_code == 302 and "/new/" not in r.location
    assert _count(app, code) == 0
    r = c.post(f"/admin/budgetitem/edit/?id={ids['item']}", data=_form(
        token, ids["year"], ids["org"]["D01U01"], "EDITED", version=str(before["version"])))
    assert r.status_code == 302
    r = c.post("/admin/budgetitem/delete/", data={"csrf_token": token, "id": ids["item"]})
    assert r.status_code == 302
    r = c.post("/admin/budgetitem/action/", data={"csrf_token": token, "action": "delete",
                                                   "rowid": [ids["item"]]})
    assert r.status_code == 302
    assert _item_row(app, ids["item"]) == before


def test_org_unit_dropdown_offers_only_the_own_subtree(app, login):
    ids = _ids(app)
    c = login("dept01")
    offered = c.get("/admin/budgetitem/ajax/lookup/?name=org_unit&query=D0&limit=1000").get_json()
    with app.app_context(), db.engine.connect() as conn:
        want = set(conn.execute(text(
            "SELECT id FROM org_unit WHERE path LIKE (SELECT path FROM org_unit WHERE code = 'D01')"
            " || '%'")).scalars())
    assert {pk for pk, _label in offered} == want
    assert ids["org"]["D02"] not in {pk for pk, _label in offered}


# --- directly, in a dept_admin's request ----------------------------------------------------


@pytest.fixture
def as_dept01(app):
    """A request context in which dept01 is logged in."""
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "dept01"))
        login_user(user)
        yield user
        db.session.rollback()


def _foreign_org() -> OrgUnit:
    with unscoped():
        return db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D02U01"))


def _own_item() -> BudgetItem:
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
    return db.session.scalar(select(BudgetItem).where(BudgetItem.org_unit_id == unit.id)
                             .order_by(BudgetItem.id))


def test_scope_hides_other_orgs_inside_a_request(as_dept01):
    assert db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D02U01")) is None
    assert db.session.scalar(select(func.count()).select_from(OrgUnit)) == 4


@pytest.mark.parametrize("how", ["column", "relationship"])
def test_moving_an_item_out_of_scope_is_refused(app, as_dept01, how):
    item = _own_item()
    before = item.org_unit_id
    foreign = _foreign_org()
    if how == "column":
        item.org_unit_id = foreign.id
    else:
        item.org_unit = foreign
    with pytest.raises(ScopeError):
        db.session.flush()
    db.session.rollback()
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SELECT org_unit_id FROM budget_item WHERE id = :i"),
                            {"i": item.id}).scalar() == before


@pytest.mark.parametrize("how", ["column", "relationship"])
def test_creating_an_item_out_of_scope_is_refused(app, as_dept01, how):
    foreign = _foreign_org()
    year = db.session.scalar(select(FiscalYear).order_by(FiscalYear.year.desc()))
    code = f"SCOPE-D-{secrets.token_hex(3)}"
    item = BudgetItem(code=code, name="越权", fiscal_year=year, amount=Decimal("1.00"))
    if how == "column":
        item.org_unit_id = foreign.id
    else:
        item.org_unit = foreign
    db.session.add(item)
    with pytest.raises(ScopeError):
        db.session.flush()
    db.session.rollback()
    assert _count(app, code) == 0


def test_ajax_update_needs_edit_permission(make_app, app, login):
    """A list with inline editing must not let a user without ``.edit`` change a row."""
    from core.web.admin.base import ScopedModelView

    probe_app = make_app()
    admin = probe_app.extensions["jixiao_admin"]

    class InlineEdit(ScopedModelView):
        permission = "budget_item"
        column_editable_list = ("name",)

    admin.add_view(InlineEdit(BudgetItem, endpoint="probe_inline", url="/admin/probe-inline"))
    ids = _ids(app)
    before = _item_row(app, ids["item"])
    for username, allowed in (("unit0101", False), ("dept01", True)):
        c = probe_app.test_client()
        assert do_login(c, username).status_code == 302
        token = csrf_from(c.get("/admin/probe-inline/").text)
        r = c.post("/admin/probe-inline/ajax/update/", data={
            "csrf_token": token, "list_form_pk": ids["item"], "name": f"inline {username}"})
        row = _item_row(app, ids["item"])
        if allowed:
            assert r.status_code == 200, r.text
            assert row["name"] == "inline dept01"
        else:
            assert r.status_code == 403
            assert row == before
    with app.app_context():
        db.session.get(BudgetItem, ids["item"]).name = before["name"]
        db.session.commit()


def test_deleting_an_item_out_of_scope_is_refused(app, as_dept01):
    with unscoped():
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D02U01"))
        item = db.session.scalar(select(BudgetItem).where(BudgetItem.org_unit_id == unit.id)
                                 .order_by(BudgetItem.id))
    code = item.code
    before = _count(app, code)  # a continuing project's items share its code across years
    db.session.delete(item)
    with pytest.raises(ScopeError):
        db.session.flush()
    db.session.rollback()
    assert _count(app, code) == before


def test_own_items_can_be_created_and_deleted(app, as_dept01):
    """The checks let in-scope writes through, also on rows expired by a commit."""
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
    year = db.session.scalar(select(FiscalYear).order_by(FiscalYear.year.desc()))
    code = f"SCOPE-OWN-{secrets.token_hex(3)}"
    item = BudgetItem(code=code, name="本部门项目", fiscal_year=year, org_unit=unit,
                      amount=Decimal("2.00"))
    db.session.add(item)
    db.session.commit()
    assert _count(app, code) == 1
    db.session.delete(item)  # every attribute expired by the commit
    db.session.commit()
    assert _count(app, code) == 0
