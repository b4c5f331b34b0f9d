"""The 5-year plan, coverage from finalized evaluations (through the contract only),
the coverage report with its chart and the items at risk, and the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from plugins.catalogue.models import Catalogue, CatalogueEntry, CoverageRecord
from plugins.catalogue.planner import propose_years, report
from tests.plugins.catalogue.conftest import YEAR, finalize, result
from tests.plugins.catalogue.test_catalogue import create_catalogue, entries, post


def _catalogue(amounts, start=2030, org=1):
    cat = Catalogue(cycle_start=start, cycle_years=5, org_unit_id=org)
    cat.entries = [CatalogueEntry(id=n, amount=Decimal(a)) for n, a in enumerate(amounts, 1)]
    return cat


def _years(cat) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for e in cat.entries:
        out.setdefault(e.planned_year, []).append(e.id)
    return out


def test_planner_spreads_count_and_amount_evenly():
    cat = _catalogue(["100"] * 10)
    assert propose_years(cat, this_year=2030) == 10
    assert sorted(len(v) for v in _years(cat).values()) == [2] * 5
    # one big item and eight small ones: the big one gets a year nearly to itself
    cat = _catalogue(["800", *["100"] * 8])
    propose_years(cat, this_year=2030)
    big_year = cat.entries[0].planned_year
    assert len(_years(cat)[big_year]) == 1
    amounts = sorted(sum(e.amount for e in cat.entries if e.planned_year == y)
                     for y in range(2030, 2035))
    assert amounts == [Decimal(200)] * 4 + [Decimal(800)]


def test_planner_respects_evaluated_and_adjusted_items_and_the_past():
    cat = _catalogue(["100"] * 6)
    done, chosen = cat.entries[0], cat.entries[1]
    done.coverage = [CoverageRecord(fiscal_year=2031, evaluation_id=1)]
    chosen.planned_year, chosen.plan_adjusted = 2034, True
    propose_years(cat, this_year=2032)  # 2030 and 2031 are past
    assert done.planned_year == 2031 and chosen.planned_year == 2034
    free = [e.planned_year for e in cat.entries[2:]]
    assert all(2032 <= y <= 2034 for y in free)
    assert sorted(free).count(2034) <= 1  # 2034 already holds the adjusted one


def test_report_shows_due_done_overdue_and_at_risk():
    cat = _catalogue(["100", "200", "300", "400"])
    a, b, c, d = cat.entries
    a.planned_year, b.planned_year, c.planned_year = 2030, 2031, 2033
    a.coverage = [CoverageRecord(fiscal_year=2030, evaluation_id=1)]
    r = report(cat, this_year=2032)
    by_year = {y.year: y for y in r.years}
    assert (by_year[2030].due, by_year[2030].done, by_year[2030].overdue) == (1, 1, 0)
    assert (by_year[2031].due, by_year[2031].overdue) == (1, 1)
    assert (r.covered, r.entries, r.count_share, r.amount_share) == (1, 4, Decimal("25.0"),
                                                                    Decimal("10.0"))
    assert {e.id: why for e, why in r.at_risk} == {b.id: "overdue", d.id: "unplanned"}
    # after the cycle every open item is at risk
    assert {e.id for e, _why in report(cat, this_year=2035).at_risk} == {b.id, c.id, d.id}


def test_a_finalized_key_evaluation_updates_coverage_by_itself(app, login, world):
    client = login(world.user)
    cid = create_catalogue(client, world)
    big, key = world.items["BIG"], world.items["KEY"]
    finalize(app, result([big], org_unit_id=world.unit_id))
    # a self-evaluation does not count, nor one outside the cycle
    finalize(app, result([key], kind="self", org_unit_id=world.unit_id))
    finalize(app, result([key], year=YEAR + 5, org_unit_id=world.unit_id))
    evaluation = result([big], org_unit_id=world.unit_id, score="91.00", grade="A")
    finalize(app, evaluation)
    finalize(app, evaluation)  # broadcast twice: stored once
    listed = entries(app, cid)
    with app.app_context():
        records = db.session.scalars(select(CoverageRecord).where(
            CoverageRecord.entry_id.in_([e.id for e in listed.values()]))).all()
        assert sorted((r.entry_id, r.grade) for r in records) == sorted(
            [(listed[big].id, "B"), (listed[big].id, "A")])
    page = client.get(f"/admin/catalogue-report/catalogue/{cid}/")
    assert page.status_code == 200
    assert "已评价：1 / 3 个项目" in page.text  # both evaluations cover the same item
    assert 'class="jixiao-chart' in page.text


def test_plan_button_catches_up_with_earlier_evaluations_and_plans(app, login, world,
                                                                   evaluations):
    client = login(world.user)
    cid = create_catalogue(client, world)
    # evaluated before the item was listed: only the contract knows
    evaluations.results.append(result([world.items["EDGE"]], org_unit_id=world.unit_id,
                                      year=YEAR))
    page = post(client, "/admin/catalogue/plan/", cid)
    assert page.status_code == 200
    listed = entries(app, cid)
    assert listed[world.items["EDGE"]].planned_year == YEAR
    assert all(YEAR <= e.planned_year <= YEAR + 4 for e in listed.values())
    report_page = client.get(f"/admin/catalogue-report/catalogue/{cid}/")
    assert f'data-year="{YEAR}"' in report_page.text
    # the department moves an item to another year: the planner keeps it there
    entry = listed[world.items["KEY"]]
    edit = client.get(f"/admin/catalogueentry/edit/?id={entry.id}")
    from tests.support import csrf_from

    r = client.post(f"/admin/catalogueentry/edit/?id={entry.id}", data={
        "csrf_token": csrf_from(edit.text), "catalogue": str(cid),
        "budget_item": str(entry.budget_item_id), "reason": "key_task", "note": "",
        "planned_year": str(YEAR + 4), "version": str(entry.version)})
    assert r.status_code == 302
    post(client, "/admin/catalogue/plan/", cid)
    moved = entries(app, cid)[world.items["KEY"]]
    assert (moved.planned_year, moved.plan_adjusted) == (YEAR + 4, True)


def test_overdue_items_are_reported_at_risk(app, login, world):
    client = login(world.user)
    with app.app_context():
        from core.models import OrgUnit
        from plugins.catalogue import service

        # a catalogue of an earlier cycle whose first year has passed
        cat = service.new_catalogue(db.session.get(OrgUnit, world.dept_id), YEAR - 1)
        cat.entries.append(CatalogueEntry(budget_item_id=world.items["BIG"],
                                          org_unit_id=world.unit_id, reason="recurring_large",
                                          amount=Decimal("12000000.00"), planned_year=YEAR - 1))
        db.session.commit()
        cid = cat.id
    page = client.get(f"/admin/catalogue-report/catalogue/{cid}/")
    assert page.status_code == 200
    at_risk = page.text.split('jixiao-at-risk')[1]
    if date.today().year > YEAR - 1:
        assert f"Z{world.tag}-BIG" in at_risk
    index = client.get("/admin/catalogue-report/")
    assert index.status_code == 200 and f"测试部门{world.tag}" in index.text
    assert client.get("/admin/catalogue-report/?year=abc").status_code == 400


def test_api_lists_catalogues_with_coverage_in_scope(app, login, world):
    client = login(world.user)
    cid = create_catalogue(client, world)
    body = client.get(f"/api/v1/catalogues/{cid}").get_json()
    assert body["coverage"]["entries"] == 3 and body["coverage"]["amount"] == "23000000.00"
    listed = client.get(f"/api/v1/catalogue-entries?catalogue_id={cid}").get_json()
    assert listed["total"] == 3
    assert login(world.other_user).get(f"/api/v1/catalogues/{cid}").status_code == 404
    assert client.get("/api/v1/catalogues?year=abc").status_code == 422


def test_dashboard_card(app, login, world):
    client = login(world.user)
    create_catalogue(client, world)
    home = client.get("/admin/")
    assert home.status_code == 200
    assert "0 / 3" in home.text
