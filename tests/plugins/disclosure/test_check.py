"""The disclosure check: published results must cover ≥ 50 % (configurable) of a
department's project expenditure; the check names what would close the gap."""

from __future__ import annotations

import html
import re

from core.extensions import db
from core.plugins import hooks
from tests.plugins.disclosure.conftest import YEAR, act, prepare, publications, result


def _finalize(app, evaluation):
    with app.app_context():
        hooks(app).evaluation_finalized(evaluation=evaluation)
        db.session.commit()


def _row(page: str, dept_code: str) -> str:
    m = re.search(rf'<tr data-dept="{dept_code}".*?</tr>', html.unescape(page), re.S)
    assert m, "department not in the check"
    return m.group(0)


def test_share_of_project_expenditure_and_what_closes_the_gap(app, login, world, stages):
    # projects A 6M, B 3M, C 1M: 10M of project expenditure; the policy P does not count
    small = result([world.items["C"]], world.unit_id, amount="1000000.00")
    big = result([world.items["A"]], world.unit_id, amount="6000000.00")
    for evaluation in (small, big):
        _finalize(app, evaluation)
    finance = login("finance")
    prepare(finance)
    pubs = publications(app, world)
    from plugins.disclosure.models import StoredResult

    with app.app_context():
        ids = {r.evaluation_id: r.id for r in db.session.query(StoredResult).filter(
            StoredResult.evaluation_id.in_([small.id, big.id]))}
    small_pub = pubs[f"evaluation_result:R{ids[small.id]}"]
    dept = login(world.user)
    act(dept, "submit", [small_pub])  # the department's own publication: it submits
    act(finance, "approve", [small_pub])

    row = _row(dept.get(f"/admin/disclosure-check/?year={YEAR}").text, world.dept_code)
    assert "10,000,000.00" in row and "1,000,000.00" in row and "10.0%" in row
    assert 'class="table-warning"' in row
    assert "评价[" in row and "+6,000,000.00" in row  # publishing the big result closes it
    assert world.code("B") not in row  # not needed once A is published

    body = dept.get(f"/api/v1/disclosure-check?year={YEAR}").get_json()
    line = next(d for d in body["departments"] if d["department_id"] == world.dept_id)
    assert (line["expenditure"], line["published"], line["share"]) == \
        ("10000000.00", "1000000.00", "10.0")
    assert [r["adds"] for r in line["results_to_publish"]] == ["6000000.00"]
    assert body["threshold"] == "50"

    # a higher threshold (rule data) also asks for an evaluation of B
    app.config["DISCLOSURE_RULE_VERSIONS"] = [
        {"code": "disclosure-test", "valid_from": YEAR, "result_share": "90"}]
    try:
        row = _row(dept.get(f"/admin/disclosure-check/?year={YEAR}").text, world.dept_code)
        assert "90%" in html.unescape(dept.get(
            f"/admin/disclosure-check/?year={YEAR}").text)
        assert world.code("B") in row
    finally:
        app.config["DISCLOSURE_RULE_VERSIONS"] = []

    act(dept, "submit", [pubs[f"evaluation_result:R{ids[big.id]}"]])
    act(finance, "approve", [pubs[f"evaluation_result:R{ids[big.id]}"]])
    row = _row(dept.get(f"/admin/disclosure-check/?year={YEAR}").text, world.dept_code)
    assert "70.0%" in row and "table-warning" not in row


def test_check_is_scoped_and_validates_its_input(app, login, world):
    other = login(world.other_user)
    page = other.get(f"/admin/disclosure-check/?year={YEAR}")
    assert page.status_code == 200 and f'data-dept="{world.dept_code}"' not in page.text
    assert other.get("/admin/disclosure-check/?year=20x6").status_code == 400
    assert other.get("/api/v1/disclosure-check?year=abc").status_code == 422
    assert other.get("/api/v1/disclosure-check").get_json()["year"] == YEAR  # the open year
    assert login("unit0101").get("/admin/disclosure-check/").status_code == 403


def test_api_lists_publications_and_results_in_scope(app, login, world, stages):
    stages.approve_targets(world.items["A"], world.unit_id, "目标")
    prepare(login("finance"))
    dept = login(world.user)
    body = dept.get(f"/api/v1/publications?year={YEAR}").get_json()
    assert {p["budget_item_id"] for p in body["items"]} == {world.items["A"]}
    assert body["items"][0]["state"] == "draft" and body["items"][0]["title"] is None
    assert dept.get("/api/v1/publications?kind=nonsense").status_code == 422
    assert dept.get("/api/v1/disclosure-results").status_code == 200
    home = dept.get("/admin/").text
    assert f"{YEAR} 年度信息公开" in home and "0 / 1" in home  # the dashboard card
