"""Role scope: an agency sees only its own assessments, appeals, ratings and restrictions;
a commissioning party sees what it commissioned; finance sees everything."""

from __future__ import annotations

import re
from datetime import date, timedelta

from core.extensions import db
from tests.plugins.agency_scoring.conftest import FULL, assessment_of, close

API = "/api/v1/agency-assessments"


def _ids(client, path: str) -> set[int]:
    body = client.get(path + "?per_page=200").get_json()
    return {item["id"] for item in body["items"]}


def test_each_side_sees_only_its_own_rows(app, engagements, login, token_for):
    from plugins.agency_scoring.models import Rating, RatingStatus, Restriction, RestrictionKind

    with app.app_context():
        for eid in engagements.ids:
            close(eid)
        aids = [assessment_of(eid).id for eid in engagements.ids]
    for aid in aids:
        assert app.test_client().post(f"{API}/{aid}/score", headers=token_for("dept01"),
                                      json={"scores": FULL}).status_code == 200
    mine, theirs = aids
    app.test_client().post(f"{API}/{mine}/appeal", headers=token_for("agency01"),
                           json={"reason": "隔离测试"})
    app.test_client().post(f"{API}/{theirs}/appeal", headers=token_for("agency02"),
                           json={"reason": "隔离测试"})
    with app.app_context():
        a1, a2 = engagements.agency_ids
        ratings = [Rating(agency_id=a, agency_name=f"机构{a}", year=2099, rule_code="agency-2021",
                          engagements=1, amount=0, weighted_mean=90, spot_deduction=0,
                          violation_deduction=0, score=90, grade="excellent", rank=i + 1,
                          status=RatingStatus.PUBLISHED)
                   for i, a in enumerate((a1, a2))]
        draft = Rating(agency_id=a1, agency_name="机构", year=2098, rule_code="agency-2021",
                       engagements=1, amount=0, weighted_mean=90, spot_deduction=0,
                       violation_deduction=0, score=90, grade="excellent", rank=1)
        restrictions = [Restriction(agency_id=a, agency_name=f"机构{a}",
                                    kind=RestrictionKind.WARNING, reason="隔离测试",
                                    start_on=date.today(),
                                    end_on=date.today() + timedelta(days=1))
                        for a in (a1, a2)]
        db.session.add_all([*ratings, draft, *restrictions])
        db.session.commit()
        rating_ids = [r.id for r in ratings]
        draft_id = draft.id
        restriction_ids = [r.id for r in restrictions]

    agency1, agency2 = login("agency01"), login("agency02")
    dept1, dept2, finance = login("dept01"), login("dept02"), login("finance")
    assert mine in _ids(agency1, API) and theirs not in _ids(agency1, API)
    assert theirs in _ids(agency2, API) and mine not in _ids(agency2, API)
    assert {mine, theirs} <= _ids(dept1, API)  # both commissioned by D01
    assert not {mine, theirs} & _ids(dept2, API)
    assert {mine, theirs} <= _ids(finance, API)
    assert agency1.get(f"{API}/{theirs}").status_code == 404
    assert dept2.get(f"{API}/{mine}").status_code == 404

    appeals1 = agency1.get("/api/v1/agency-appeals").get_json()["items"]
    assert {a["assessment_id"] for a in appeals1} & {mine, theirs} == {mine}
    assert not {a["assessment_id"] for a in
                dept2.get("/api/v1/agency-appeals?per_page=200").get_json()["items"]} \
        & {mine, theirs}

    r1, r2 = rating_ids
    assert r1 in _ids(agency1, "/api/v1/agency-ratings") and \
        r2 not in _ids(agency1, "/api/v1/agency-ratings")
    assert draft_id not in _ids(agency1, "/api/v1/agency-ratings")  # not published yet
    assert {r1, r2, draft_id} <= _ids(dept2, "/api/v1/agency-ratings")
    assert agency1.get(f"/api/v1/agency-ratings/{r2}").status_code == 404
    s1, s2 = restriction_ids
    assert s1 in _ids(agency1, "/api/v1/agency-restrictions") and \
        s2 not in _ids(agency1, "/api/v1/agency-restrictions")
    a1, a2 = engagements.agency_ids
    assert agency1.get(f"/api/v1/agencies/{a1}/eligibility").status_code == 200
    assert agency1.get(f"/api/v1/agencies/{a2}/eligibility").status_code == 404

    # the admin pages: the same rows, and another agency's page is not found
    listed = set(re.findall(r"/page/\?id=(\d+)", agency1.get("/admin/agency_assessment/").text))
    assert str(mine) in listed and str(theirs) not in listed
    assert agency1.get(f"/admin/agency_assessment/page/?id={theirs}").status_code == 404
    assert agency1.get(f"/admin/agency_assessment/page/?id={mine}").status_code == 200


def test_an_agency_cannot_write_restrictions(app, login):
    r = login("agency01").get("/admin/agency_restriction/new/")
    assert r.status_code in (302, 403)


def test_the_pages_are_in_chinese_and_in_the_admin_menu(app, login):
    finance = login("finance")
    home = finance.get("/admin/").text
    assert "第三方机构考核" in home and "考核概览" in home
    page = finance.get("/admin/agency_scoring_overview/")
    assert page.status_code == 200
    assert "等级分布" in page.text and "受限机构" in page.text
    assert "jixiao-chart" in page.text
    # the ranking's deductions are points, not a count of deductions
    assert "<th>扣分</th>" in page.text and "扣分次数" not in page.text
