"""Two product choices of self-evaluation: an item with a budget of 0, and range targets.

An item with a budget of 0 has no budget execution: under a rule version with
``zero_budget = "share"`` (the built-in one) that leaf is left out and its weight is
shared out over the indicators; a range target “low-high” gives full points inside
the range, and weight × actual / low below it, weight × high / actual above it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from core.services.scoring import SELF_EVALUATION_2020, ScoringError, ScoringRules
from tests.plugins.evaluation.conftest import evaluation_of
from tests.plugins.evaluation.test_scoring_api import URL, line, sheet
from tests.plugins.evaluation.test_self_evaluation import _create, _enter


@pytest.fixture
def api(api_as):
    return api_as("unit0101")


def _points(body):
    return {i["name"]: (i["weight"], i["points"]) for i in body["indicators"]}


def test_a_budget_of_0_shares_the_execution_weight_over_the_indicators(api):
    r = api.post(URL, json=sheet(
        line("完成数量", ">=", "45", "100", "80"),
        line("社会效益", ">=", "30", "10", "10", level1="效益指标"),
        line("满意度", ">=", "15", "90", "90", level1="满意度指标"),
        budget="0.00", spent="0.00"))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    # 90 points over 45/30/15 become 100: 50, 33.33, 16.67 (largest remainder)
    assert body["execution_points"] is None
    assert _points(body) == {"完成数量": ("50.00", "40.00"), "社会效益": ("33.33", "33.33"),
                             "满意度": ("16.67", "16.67")}
    assert body["score"] == "90.00"
    assert body["grade"] == "excellent"


def test_a_budget_of_0_is_refused_by_a_version_that_says_so():
    from plugins.evaluation.sheet import SheetError, score_sheet

    refusing = replace(SELF_EVALUATION_2020, code="self-evaluation-refuse", zero_budget="refuse")
    data = sheet(line("完成数量", ">=", "90", "100", "100"), budget="0.00", spent="0.00")
    with pytest.raises(SheetError) as exc:
        score_sheet(data, refusing)
    assert [p.path for p in exc.value.problems] == ["budget"]
    assert score_sheet(data, SELF_EVALUATION_2020).score == Decimal("100.00")


def test_the_zero_budget_choice_is_rule_data_stored_with_the_version():
    data = SELF_EVALUATION_2020.to_dict()
    assert data["zero_budget"] == "share"
    assert ScoringRules.from_dict(data) == SELF_EVALUATION_2020
    older = {k: v for k, v in data.items() if k != "zero_budget"}  # a trace stored before
    assert ScoringRules.from_dict(older).zero_budget == "refuse"
    with pytest.raises(ScoringError) as exc:
        replace(SELF_EVALUATION_2020, zero_budget="ignore")
    assert [p.path for p in exc.value.problems] == ["zero_budget"]


@pytest.mark.parametrize("actual,points,formula", [
    ("95", "10.00", "90 ≤ 95 ≤ 100 → 10"),
    ("90", "10.00", "90 ≤ 90 ≤ 100 → 10"),
    ("72", "8.00", "10 × 72 / 90"),
    ("125", "8.00", "10 × 100 / 125"),
])
def test_a_range_target_scores_full_inside_and_in_proportion_outside(api, actual, points,
                                                                     formula):
    body = api.post(URL, json=sheet(
        line("完成数量", ">=", "80", "100", "100"),
        line("满意度", "range", "10", "90-100", actual, level1="满意度指标"))).get_json()
    found = {i["name"]: i for i in body["indicators"]}["满意度"]
    assert (found["points"], found["formula"], found["method"]) == (points, formula, "range")


@pytest.mark.parametrize("target", ["90", "100-90", "abc-100"])
def test_a_range_target_must_be_low_high(api, target):
    r = api.post(URL, json=sheet(
        line("完成数量", ">=", "80", "100", "100"),
        line("满意度", "range", "10", target, "95", level1="满意度指标")))
    assert r.status_code == 422
    assert "indicators.1" in str(r.get_json())


def test_a_zero_budget_item_with_a_range_target_on_the_score_screen(app, login, target_item):
    item_id = target_item(amount="0.00", satisfaction=("range", "90-100"))
    ev_id = _create(app, item_id)
    unit = login("unit0101")
    page = _enter(app, unit, ev_id, spent="0.00", values={"完成数量": "100", "差错率": "5",
                                                         "满意度": "80"})
    assert page.status_code == 200
    html = page.text
    assert "不适用" in html
    with app.app_context():
        ev = evaluation_of(item_id)
        by_name = {ln.name: ln for ln in ev.lines}
        assert by_name["满意度"].comparator == "range"
        # 90 over 40/20/30(qualitative)/10 … shared to 100: 满意度 holds 10 / 90 × 100 = 11.11
        # and scores 11.11 × 80 / 90 = 9.88; the other indicators are met in full
        assert ev.score == Decimal("100.00") - Decimal("11.11") + Decimal("9.88") \
            - _qualitative_loss(ev)
        assert db.session.scalar(select(type(ev).score).where(type(ev).id == ev.id)) == ev.score
    assert "9.88" in html and "11.11" in html


def _qualitative_loss(ev):
    """Points the qualitative line (achieved, ratio 0.9) misses of its shared weight."""
    line = next(ln for ln in ev.lines if ln.comparator == "qualitative")
    shared = (line.weight * 100 / 90).quantize(Decimal("0.01"))
    return shared - (shared * Decimal("0.9")).quantize(Decimal("0.01"))
