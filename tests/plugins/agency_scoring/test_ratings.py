"""Annual rating: amount-weighted mean, spot-check and violation deductions, grade bands,
ranking, publishing with consequences, and no change after publishing."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.plugins.agency_scoring.conftest import FULL, SPOT, user
from tests.support import run_long_action

# fake agency ids far from the demo's: these tests need no agency rows
A, B, C = 990001, 990002, 990003


def _assessment(agency_id: int, year: int, amount: str, *, level: str = "A",
                late: str = "0", spot: str | None = None, vetoes=()):
    from core.models import OrgUnit
    from plugins.agency_scoring.models import Assessment
    from plugins.agency_scoring.service import PARTY, record_score
    from plugins.agency_scoring.service import SPOT as SPOT_CHECK

    org = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01"))
    a = Assessment(engagement_id=None, agency_id=agency_id, agency_name=f"机构{agency_id}",
                   code=f"R-{secrets.token_hex(3)}", title="评级测试", org_unit_id=org.id,
                   contract_amount=Decimal(amount), end_on=date(year, 6, 30), year=year,
                   rule_code="agency-2021", evidence={}, status="open", vetoes=[])
    db.session.add(a)
    db.session.flush()
    scores = {p: ({"level": level} if "level" in v else v) for p, v in FULL.items()}
    scores["时效性/按期提交成果"] = {"defects": late}
    record_score(a, PARTY, scores, list(vetoes), user("dept01"))
    if spot:
        record_score(a, SPOT_CHECK, {p: {"level": spot} for p in SPOT}, [], user("finance"))
    return a


@pytest.fixture
def year():
    return 2040 + secrets.randbelow(900)


def test_rating_is_the_amount_weighted_mean_less_deductions_and_ranked(app, year):
    from plugins.agency_scoring.rating import compute_ratings

    with app.app_context():
        # A: 100 on 300,000 and 90 on 100,000 → 97.50
        _assessment(A, year, "300000", late="0")
        _assessment(A, year, "100000", late="10")
        # B: 100 and a poor spot-check (D 40 %): 100×0.7+40×0.3 = 82 → −5 → 77
        _assessment(B, year, "200000", spot="D")
        # C: a veto → −10 → 90
        _assessment(C, year, "200000", vetoes=["leaking"])
        ratings = {r.agency_id: r for r in compute_ratings(year)}
        db.session.commit()
        a, b, c = ratings[A], ratings[B], ratings[C]
        assert (a.weighted_mean, a.score, a.grade, a.rank) == (
            Decimal("97.50"), Decimal("97.50"), "excellent", 1)
        assert (b.weighted_mean, b.spot_deduction, b.score, b.grade, b.rank) == (
            Decimal("82.00"), Decimal("5"), Decimal("77.00"), "fair", 3)
        assert (c.violation_deduction, c.score, c.grade, c.rank) == (
            Decimal("10"), Decimal("90.00"), "excellent", 2)


def test_the_ranking_is_listed_in_order_by_the_api(app, year, login):
    from plugins.agency_scoring.rating import compute_ratings

    with app.app_context():
        _assessment(A, year, "100000", level="C")
        _assessment(B, year, "100000", level="A")
        compute_ratings(year)
        db.session.commit()
    items = login("finance").get(f"/api/v1/agency-ratings?year={year}").get_json()["items"]
    assert [(i["agency_id"], i["rank"]) for i in items] == [(B, 1), (A, 2)]


def test_publishing_makes_it_final_and_applies_the_consequences(app, year, token_for):
    from plugins.agency_scoring.models import Rating, Restriction
    from plugins.agency_scoring.rating import eligibility

    with app.app_context():
        _assessment(A, year - 1, "100000", level="C", late="3")  # fair
        _assessment(A, year, "100000", level="C", late="3")  # fair again → warning
        _assessment(B, year, "100000", level="D", late="15")  # poor → excluded
        db.session.commit()
    client = app.test_client()
    finance = token_for("finance")
    assert client.post("/api/v1/agency-ratings/publish", headers=finance,
                       json={"year": year}).status_code == 422  # not computed yet
    for y in (year - 1, year):
        assert client.post("/api/v1/agency-ratings/compute", headers=finance,
                           json={"year": y}).status_code == 200
        r = client.post("/api/v1/agency-ratings/publish", headers=finance, json={"year": y})
        assert r.status_code == 200, r.get_json()
    with app.app_context():
        grades = dict(db.session.execute(select(Rating.agency_id, Rating.grade).where(
            Rating.year == year)).all())
        assert grades == {A: "fair", B: "poor"}
        kinds = {(r.agency_id, r.kind.value) for r in db.session.scalars(
            select(Restriction).where(Restriction.agency_id.in_((A, B))))}
        assert kinds == {(A, "warning"), (B, "exclusion")}
        assert not eligibility(B, date.today()).eligible
        later = eligibility(B, date(date.today().year + 2, 1, 1))
        assert later.eligible  # one year by default
        warned = eligibility(A, date.today())
        assert warned.eligible and warned.notes
    # published: no recompute, no second publish, no score change
    for path in ("compute", "publish"):
        r = client.post(f"/api/v1/agency-ratings/{path}", headers=finance, json={"year": year})
        assert r.status_code == 422 and "year" in r.get_json()["details"]
    with app.app_context():
        from plugins.agency_scoring.models import Assessment
        from plugins.agency_scoring.service import SPOT as SPOT_CHECK
        from plugins.agency_scoring.service import AssessmentError, record_score

        a = db.session.scalar(select(Assessment).where(Assessment.agency_id == B,
                                                       Assessment.year == year))
        with pytest.raises(AssessmentError):
            record_score(a, SPOT_CHECK, {p: {"level": "A"} for p in SPOT}, [],
                         user("finance"))
        db.session.rollback()
        assert db.session.get(Assessment, a.id).spot_total is None


def test_only_finance_computes_and_publishes(app, year, token_for):
    r = app.test_client().post("/api/v1/agency-ratings/compute", headers=token_for("dept01"),
                               json={"year": year})
    assert r.status_code == 403


def test_a_configured_rule_version_changes_bands_and_weights(make_app):
    from plugins.agency_scoring.rules import AGENCY_2021, rules_for_year

    data = AGENCY_2021.to_dict()
    data.update(code="agency-2030", valid_from=2030, party_weight="50", spot_weight="50",
                appeal_days=5)
    data["scoring"]["bands"] = [{"code": "poor", "lower": "0", "upper": "70"},
                                {"code": "fair", "lower": "70", "upper": "85"},
                                {"code": "good", "lower": "85", "upper": "95"},
                                {"code": "excellent", "lower": "95", "upper": "100"}]
    app = make_app(AGENCY_SCORING_RULE_VERSIONS=[data])
    with app.app_context():
        assert rules_for_year(2029).code == "agency-2021"
        rules = rules_for_year(2031)
        assert (rules.code, rules.party_weight, rules.appeal_days) == ("agency-2030", 50, 5)
        assert rules.scoring.grade(Decimal("90")).code == "good"
        assert sum(i.weight for i in rules.sheet) == 100


def test_publishing_counts_scores_given_after_the_last_computation(app, year):
    from plugins.agency_scoring.rating import compute_ratings, publish_ratings

    with app.app_context():
        _assessment(A, year, "100000", level="A")
        compute_ratings(year)
        _assessment(A, year, "100000", level="C")  # scored after "compute"
        published = {r.agency_id: r for r in publish_ratings(year)}
        db.session.commit()
        assert published[A].weighted_mean < Decimal("100.00")


def test_a_pending_appeal_blocks_publishing_and_a_published_year_takes_no_appeal(app, year):
    from plugins.agency_scoring.models import Appeal, AppealStatus
    from plugins.agency_scoring.rating import compute_ratings, publish_ratings
    from plugins.agency_scoring.service import AssessmentError, file_appeal

    with app.app_context():
        a = _assessment(A, year, "100000", level="B")
        b = _assessment(A, year, "100000", level="B")
        a.appeal_until = b.appeal_until = date.today()
        appeal = file_appeal(a, "时效性扣分有误", user("agency01"))
        compute_ratings(year)
        with pytest.raises(AssessmentError) as refused:
            publish_ratings(year)
        assert "year" in refused.value.problems
        appeal.status = AppealStatus.REJECTED
        publish_ratings(year)
        with pytest.raises(AssessmentError):
            file_appeal(b, "迟来的申诉", user("agency01"))
        db.session.commit()
        assert db.session.query(Appeal).filter(Appeal.assessment_id == b.id).count() == 0


def test_finance_confirms_and_the_rating_is_computed_in_the_background(app, year, login):
    from plugins.agency_scoring.models import Rating

    with app.app_context():
        _assessment(A, year, "100000", level="C")
        _assessment(B, year, "100000", level="A")
        db.session.commit()
    finance = login("finance")
    url = "/admin/agency_scoring_overview/rating/"
    page = finance.get(url, query_string={"year": year, "action": "compute"}).text
    assert f"计算 {year} 年度评级" in page and "有已评分项目的 2 家机构评级" in page
    done = run_long_action(finance, url, year=str(year), action="compute").text
    assert f"已计算 {year} 年度 2 家机构的评级（草稿）。" in done and "2 / 2" in done
    with app.app_context():
        ranks = dict(db.session.execute(select(Rating.agency_id, Rating.rank).where(
            Rating.year == year)).all())
    assert ranks == {B: 1, A: 2}


def test_a_refused_publication_fails_with_the_reason_and_changes_nothing(app, year, login):
    from plugins.agency_scoring.models import Rating, RatingStatus, Restriction
    from plugins.agency_scoring.service import file_appeal

    with app.app_context():
        a = _assessment(C, year, "100000", level="C")
        a.appeal_until = date.today()
        file_appeal(a, "评分有误", user("agency01"))
        db.session.commit()
    finance = login("finance")
    url = "/admin/agency_scoring_overview/rating/"
    run_long_action(finance, url, year=str(year), action="compute")
    failed = run_long_action(finance, url, year=str(year), action="publish").text
    assert f"任务失败，未作任何更改：{year} 年度还有 1 项申诉尚未处理" in failed
    with app.app_context():
        statuses = set(db.session.scalars(select(Rating.status).where(Rating.year == year)))
        assert statuses == {RatingStatus.DRAFT}
        assert not db.session.scalar(select(Restriction.id).where(
            Restriction.agency_id == C).limit(1))
