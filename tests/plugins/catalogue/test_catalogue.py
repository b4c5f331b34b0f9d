"""The catalogue: proposed by the rules, completed and confirmed by the department,
approved by the finance bureau; entries only of the department's own items."""

from __future__ import annotations

import html
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from plugins.catalogue.models import Catalogue, CatalogueEntry, EntryReason
from tests.plugins.catalogue.conftest import YEAR
from tests.support import csrf_from


def create_catalogue(client, world, dept_id=None) -> int:
    """Create the department's catalogue for YEAR in the admin (the rules propose its items)."""
    dept_id = dept_id or world.dept_id
    page = client.get("/admin/catalogue/new/")
    assert page.status_code == 200
    r = client.post("/admin/catalogue/new/", data={
        "csrf_token": csrf_from(page.text), "org_unit": str(dept_id),
        "cycle_start": str(YEAR)})
    assert r.status_code == 302, r.text
    with client.application.app_context():
        return db.session.scalar(select(Catalogue.id).where(Catalogue.org_unit_id == dept_id))


def post(client, path: str, catalogue_id: int, **data):
    page = client.get(f"/admin/catalogue/catalogue/?id={catalogue_id}")
    assert page.status_code == 200
    return client.post(f"{path}?id={catalogue_id}",
                       data={"csrf_token": csrf_from(page.text), **data},
                       follow_redirects=True)


def entries(app, catalogue_id: int) -> dict[int, CatalogueEntry]:
    with app.app_context():
        return {e.budget_item_id: e for e in db.session.scalars(
            select(CatalogueEntry).where(CatalogueEntry.catalogue_id == catalogue_id))}


def test_rules_propose_recurring_items_of_ten_million_and_key_tasks(app, login, world):
    client = login(world.user)
    cid = create_catalogue(client, world)
    listed = entries(app, cid)
    items = world.items
    assert {i: e.reason for i, e in listed.items()} == {
        items["BIG"]: EntryReason.RECURRING_LARGE,
        items["EDGE"]: EntryReason.RECURRING_LARGE,  # exactly 10,000,000.00 is in
        items["KEY"]: EntryReason.KEY_TASK,
    }
    assert listed[items["BIG"]].amount == Decimal("12000000.00")
    # proposing again adds nothing twice
    page = post(client, "/admin/catalogue/propose/", cid)
    assert "已按规则提出 0 个项目" in page.text
    assert len(entries(app, cid)) == 3


def test_threshold_is_rule_data(app, login, world):
    app.config["CATALOGUE_RULE_VERSIONS"] = [
        {"code": "catalogue-test", "valid_from": YEAR, "recurring_threshold": "5000000"}]
    try:
        client = login(world.user)
        cid = create_catalogue(client, world)
        assert world.items["JUST-UNDER"] in entries(app, cid)
        with app.app_context():
            assert db.session.get(Catalogue, cid).rules_code == "catalogue-test"
    finally:
        app.config["CATALOGUE_RULE_VERSIONS"] = []


def _new_entry(client, cid, item_id, reason="high_impact", year=""):
    page = client.get("/admin/catalogueentry/new/")
    assert page.status_code == 200
    return client.post("/admin/catalogueentry/new/", data={
        "csrf_token": csrf_from(page.text), "catalogue": str(cid),
        "budget_item": str(item_id), "reason": reason, "note": "覆盖面广", "planned_year": year})


def test_department_adds_a_high_impact_item_but_only_its_own(app, login, world):
    client = login(world.user)
    cid = create_catalogue(client, world)
    r = _new_entry(client, cid, world.items["SMALL"])
    assert r.status_code == 302
    entry = entries(app, cid)[world.items["SMALL"]]
    assert entry.reason == EntryReason.HIGH_IMPACT and entry.org_unit_id == world.unit_id
    # an item of another department is refused (finance sees both, so it can try)
    with app.app_context():
        foreign = db.session.scalar(select(CatalogueEntry.budget_item_id).where(
            CatalogueEntry.org_unit_id != world.unit_id).limit(1))
        from core.models import BudgetItem, FiscalYear
        foreign = foreign or db.session.scalar(
            select(BudgetItem.id).join(FiscalYear).where(FiscalYear.year == YEAR,
                                                         BudgetItem.org_unit_id != world.unit_id)
            .limit(1))
    r = _new_entry(login("finance"), cid, foreign)
    assert r.status_code == 200
    assert "该项目属于另一个部门" in html.unescape(r.text)
    assert foreign not in entries(app, cid)
    # a planned year outside the cycle is refused, with the field named
    r = _new_entry(client, cid, world.items["ONE-OFF"], year=str(YEAR + 5))
    assert r.status_code == 200 and world.items["ONE-OFF"] not in entries(app, cid)
    assert f"{YEAR}–{YEAR + 4}" in html.unescape(r.text)


def test_department_confirms_finance_approves_then_it_is_frozen(app, login, world):
    # an empty catalogue (the other department has no items) cannot be confirmed
    other = login(world.other_user)
    empty = create_catalogue(other, world, dept_id=world.other_dept_id)
    page = post(other, "/admin/catalogue/workflow/", empty, action="submit")
    assert "目录中还没有项目" in page.text
    with app.app_context():
        assert db.session.get(Catalogue, empty).state == "draft"
    dept = login(world.user)
    cid = create_catalogue(dept, world)
    post(dept, "/admin/catalogue/workflow/", cid, action="submit")
    # the department cannot approve its own catalogue
    post(dept, "/admin/catalogue/workflow/", cid, action="approve")
    with app.app_context():
        assert db.session.get(Catalogue, cid).state == "submitted"
    finance = login("finance")
    post(finance, "/admin/catalogue/workflow/", cid, action="approve")
    with app.app_context():
        assert db.session.get(Catalogue, cid).state == "approved"
    # approved: no new items, by the rules or by hand
    page = post(dept, "/admin/catalogue/propose/", cid)
    assert "目录正在审核或已审定，不能修改" in page.text
    _new_entry(dept, cid, world.items["SMALL"])
    assert set(entries(app, cid)) == {world.items[k] for k in ("BIG", "EDGE", "KEY")}


def test_other_departments_and_units_cannot_reach_the_catalogue(app, login, world):
    dept = login(world.user)
    cid = create_catalogue(dept, world)
    other = login(world.other_user)
    assert other.get(f"/admin/catalogue/catalogue/?id={cid}").status_code == 404
    assert other.get(f"/admin/catalogue-report/catalogue/{cid}/").status_code == 404
    token = csrf_from(other.get("/admin/catalogue/new/").text)
    for path in ("/admin/catalogue/workflow/", "/admin/catalogue/plan/"):
        r = other.post(f"{path}?id={cid}", data={"csrf_token": token, "action": "submit"})
        assert r.status_code == 404
    unit = login(world.unit_user)
    assert unit.get(f"/admin/catalogue/catalogue/?id={cid}").status_code == 403
    # the unit sees its own entries (read only), not the catalogue's workflow
    listing = unit.get("/admin/catalogueentry/")
    assert listing.status_code == 200 and f"Z{world.tag}-BIG" in listing.text
    assert other.get("/admin/catalogueentry/").text.count(f"Z{world.tag}-") == 0
