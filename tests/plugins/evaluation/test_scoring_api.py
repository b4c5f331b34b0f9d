"""The stateless scoring endpoint: the default formulas, rounding, grades and bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest

URL = "/api/v1/scoring/self-evaluation"


def line(name, comparator, weight, target=None, actual=None, level1="产出指标", level2="数量指标",
         **extra):
    out = {"level1": level1, "level2": level2, "name": name, "comparator": comparator,
           "weight": weight, **extra}
    if target is not None:
        out["target"] = target
    if actual is not None:
        out["actual"] = actual
    return out


def sheet(*indicators, budget="1000000.00", spent="950000.00", **extra):
    return {"budget": budget, "spent": spent, "indicators": list(indicators), **extra}


SAMPLE = sheet(
    line("完成数量", ">=", "30", "100", "80"),
    line("差错率", "<=", "20", "5", "7", level2="质量指标"),
    line("计划工期", "=", "10", "12", "15", level2="时效指标"),
    line("社会效益", "qualitative", "30", grade="partly", ratio="0.65", level1="效益指标",
         level2="社会效益指标"),
)


@pytest.fixture
def api(api_as):
    return api_as("unit0101")


def test_the_default_formulas_line_by_line(api):
    r = api.post(URL, json=SAMPLE)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    # 10 × 0.95 = 9.50; 30 × 80/100 = 24.00; 20 × 5/7 = 14.2857 → 14.29;
    # 10 × (1 − 3/12) = 7.50; 30 × 0.65 = 19.50
    assert body["execution_points"] == "9.50"
    points = {i["name"]: i["points"] for i in body["indicators"]}
    assert points == {"完成数量": "24.00", "差错率": "14.29", "计划工期": "7.50", "社会效益": "19.50"}
    assert body["score"] == "74.79"
    assert body["grade"] == "fair"
    assert body["rule_version"] == "self-evaluation-2020"
    formulas = {i["name"]: i["formula"] for i in body["indicators"]}
    assert formulas["完成数量"] == "30 × 80 / 100"
    assert formulas["差错率"] == "20 × 5 / 7"
    assert "|15 − 12| / |12|" in formulas["计划工期"]
    assert "min(950000.00 / 1000000.00, 1)" in body["execution_formula"]


def test_met_targets_give_full_points_and_overspending_is_capped(api):
    body = api.post(URL, json=sheet(
        line("完成数量", ">=", "50", "100", "130"),
        line("成本", "<=", "30", "100", "90", level2="成本指标"),
        line("满意度", ">=", "10", "90", "95", level1="满意度指标", level2="服务对象满意度"),
        spent="1200000.00")).get_json()
    assert body["execution_points"] == "10.00"
    assert body["score"] == "100.00"
    assert body["grade"] == "excellent"


@pytest.mark.parametrize("ratio,points", [("0.8", "24.00"), ("1", "30.00"), (None, "30.00")])
def test_qualitative_ratio_within_the_band(api, ratio, points):
    extra = {} if ratio is None else {"ratio": ratio}
    body = api.post(URL, json=sheet(
        line("完成数量", ">=", "60", "1", "1"),
        line("机制", "qualitative", "30", grade="achieved", level1="效益指标", **extra))).get_json()
    assert {i["name"]: i["points"] for i in body["indicators"]}["机制"] == points


def test_half_up_rounding_per_line_and_the_total_is_the_sum(api):
    # 45 × 1/8 = 5.625 → 5.63 (half up, not half even); 45 × 7/8 = 39.375 → 39.38
    body = api.post(URL, json=sheet(
        line("甲", ">=", "45", "8", "1"), line("乙", ">=", "45", "8", "7"),
        spent="1000000.00")).get_json()
    points = [Decimal(i["points"]) for i in body["indicators"]]
    assert [str(p) for p in points] == ["5.63", "39.38"]
    assert Decimal(body["score"]) == sum(points) + Decimal(body["execution_points"])


def test_equal_target_never_below_zero(api):
    body = api.post(URL, json=sheet(line("工期", "=", "90", "10", "25"))).get_json()
    assert body["indicators"][0]["points"] == "0.00"


@pytest.mark.parametrize("change,field", [
    ({"weight": "31"}, "indicators.weight"),
    ({"actual": 80.5}, "indicators.0.actual"),
    ({"actual": "八十"}, "indicators.0.actual"),
    ({"actual": "80万元", "unit": "个"}, "indicators.0.actual"),
    ({"comparator": "~"}, "indicators.0.comparator"),
    ({"target": "0"}, "indicators.0.target"),
])
def test_bad_input_names_the_field(api, change, field):
    bad = sheet(line("完成数量", ">=", "60", "100", "80"),
                line("效益", "qualitative", "30", grade="achieved", level1="效益指标"))
    bad["indicators"][0].update(change)
    r = api.post(URL, json=bad)
    assert r.status_code == 422
    body = r.get_json()
    assert field in body["details"], body


def test_a_unit_suffix_matching_the_indicator_is_accepted(api):
    body = api.post(URL, json=sheet(
        line("合格率", ">=", "90", "95", "95%", unit="%"))).get_json()
    assert body["indicators"][0]["points"] == "90.00"


def test_bad_grade_ratio_budget_and_rule_version(api):
    r = api.post(URL, json=sheet(
        line("效益", "qualitative", "90", grade="partly", ratio="0.9"), budget="-1"))
    details = r.get_json()["details"]
    assert r.status_code == 422
    assert "indicators.0.ratio" in details and "budget" in details
    r = api.post(URL, json=sheet(line("效益", "qualitative", "90", grade="great")))
    assert "indicators.0.grade" in r.get_json()["details"]
    r = api.post(URL, json={**SAMPLE, "rule_version": "nope"})
    assert r.status_code == 422 and "rule_version" in r.get_json()["details"]


def test_a_configured_rule_version_changes_bands_and_execution_weight(make_app, api_as):
    rules = {"code": "self-evaluation-2027", "valid_from": 2027,
             "bands": [{"code": "poor", "lower": "0", "upper": "50"},
                       {"code": "fair", "lower": "50", "upper": "70"},
                       {"code": "good", "lower": "70", "upper": "85"},
                       {"code": "excellent", "lower": "85", "upper": "100"}],
             "qualitative_scales": {"achievement": [
                 {"code": "achieved", "lower": "80", "upper": "100", "default": "100"},
                 {"code": "partly", "lower": "60", "upper": "80", "default": "70"},
                 {"code": "not_achieved", "lower": "0", "upper": "60", "default": "0"}]},
             "default_weights": {"budget_execution": "20", "outputs": "40", "outcomes": "30",
                                 "satisfaction": "10"}}
    c = api_as("unit0101", make_app(EVALUATION_RULE_VERSIONS=[rules]))
    body = c.post(URL, json={**SAMPLE, "rule_version": "self-evaluation-2027"}).get_json()
    assert body["details"]["indicators.weight"]  # 20 + 90 ≠ 100
    fixed = sheet(line("完成数量", ">=", "80", "100", "80"), rule_version="self-evaluation-2027")
    body = c.post(URL, json=fixed).get_json()
    assert body["execution_points"] == "19.00" and body["score"] == "83.00"
    assert body["grade"] == "good"


def test_anonymous_callers_are_refused(client):
    assert client.post(URL, json=SAMPLE).status_code == 401
