"""The fee formula: every component, line rounding, formulas, sliding scale, bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.plugins.agency_fees.conftest import RULES, rules


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def quote(data, inputs):
    from plugins.agency_fees import service
    from plugins.agency_fees.calc import parse_inputs
    from plugins.agency_fees.schedule import parse_rules

    r = parse_rules(data, service.known_method)
    return service.compute(r, parse_inputs(inputs, r))


def amounts(q):
    return {ln.code: ln.amount for ln in q.lines}


def test_standard_quote_applies_each_component_in_order(ctx):
    q = quote(RULES, {
        "object_kind": "policy", "stage": "evaluation", "evaluated_amount": "2000000.00",
        "staff_days": {"senior": "5", "junior": "10.5"},
        "experts": [{"title": "高级职称", "days": "2.5", "count": 2, "remote_reviews": 1}],
        "survey_samples": 100, "direct_costs": [{"label": "差旅费", "amount": "1234.56"}]})
    lines = q.lines
    staff = [ln for ln in lines if ln.code == "staff"]
    assert [ln.amount for ln in staff] == [Decimal("10000.00"), Decimal("8400.00")]
    # 2.5 days = day 1 + day 2 at 100 %, half of day 3 at 60 % × 50 % → 2.3 units
    expert = next(ln for ln in lines if ln.code == "expert")
    assert expert.amount == Decimal("2400.00") * Decimal("2.3") * 2 == Decimal("11040.00")
    remote = next(ln for ln in lines if ln.code == "remote")
    assert remote.amount == Decimal("2400.00")  # 2400 × 50 % × 1 occasion × 2 experts
    a = amounts(q)
    assert a["labour"] == Decimal("31840.00")
    assert a["coefficient"] == Decimal("38208.00")  # × 1.2 (policy) × 1 (evaluation)
    assert a["survey"] == Decimal("2000.00")
    assert a["subtotal"] == Decimal("38208.00") + Decimal("2000.00") + Decimal("1234.56")
    assert a["management"] == Decimal("4144.26")  # 41442.56 × 10 % = 4144.256 → 4144.26
    assert a["tax"] == Decimal("2735.21")  # (41442.56 + 4144.26) × 6 % = 2735.2092
    assert q.total == a["total"] == Decimal("48322.03")
    # every line explains itself
    assert "5 × 2000.00 = 10000.00" in staff[0].formula
    assert "41442.56 × 10%" in next(ln for ln in lines if ln.code == "management").formula
    assert all(ln.label and ln.formula for ln in lines)


def test_expert_days_full_half_and_later_days(ctx):
    from plugins.agency_fees.calc import expert_units
    from plugins.agency_fees.schedule import parse_rules

    r = parse_rules(RULES)
    assert expert_units(r, Decimal("0.5")) == Decimal("0.6")
    assert expert_units(r, Decimal("1.5")) == Decimal("1.6")
    assert expert_units(r, Decimal("2")) == Decimal(2)
    assert expert_units(r, Decimal("4")) == Decimal(3)  # days 3 and 4 at 50 %
    assert expert_units(r, Decimal("3.5")) == Decimal("2.8")


def test_each_line_is_rounded_half_up_to_the_fen(ctx):
    data = rules(staff_day_rates={"senior": "1234.57"}, minimum_fee="0", management_pct="0",
                 tax_pct="0", scale={"use": None, "bands": []})
    q = quote(data, {"stage": "evaluation", "staff_days": {"senior": "0.5"}})
    assert amounts(q)["staff"] == Decimal("617.29")  # 617.285 → 617.29, not banker's 617.28
    assert q.total == Decimal("617.29")


def test_minimum_fee_and_cap(ctx):
    q = quote(RULES, {"stage": "evaluation", "staff_days": {"junior": "1"}})
    assert q.total == Decimal("10000.00")
    assert any(ln.code == "minimum" for ln in q.lines)
    capped = rules(scale={"use": "cap", "tolerance_pct": "20", "bands": [
        {"lower": "0", "upper": None, "rate_pct": "1"}]})
    q = quote(capped, {"stage": "evaluation", "evaluated_amount": "1500000",
                       "staff_days": {"senior": "20"}})
    assert q.total == Decimal("15000.00")
    assert next(ln for ln in q.lines if ln.code == "cap").formula.startswith("min(")


def test_sliding_scale_band_by_band_and_cross_check(ctx):
    q = quote(RULES, {"stage": "evaluation", "evaluated_amount": "6000000.00",
                      "staff_days": {"senior": "5"}})
    # 1,000,000 × 2 % + 4,000,000 × 1 % + 1,000,000 × 0.5 %
    assert q.scale_fee == Decimal("65000.00")
    assert q.outside_scale  # 12,000-ish against 65,000: beyond ±30 %
    fee = quote(rules(method="sliding_scale", scale={"use": None, "bands": [
        {"lower": "0", "upper": "1000000", "fixed": "8000"},
        {"lower": "1000000", "upper": None, "rate_pct": "0.3"}]}),
        {"object_kind": "department", "stage": "evaluation", "evaluated_amount": "3000000"})
    bands = [ln.amount for ln in fee.lines if ln.code.startswith("band")]
    assert bands == [Decimal("8000"), Decimal("6000.00")]
    assert fee.total == Decimal("21000.00")  # (8000 + 6000) × 1.5


@pytest.mark.parametrize("inputs, field, words", [
    ({"staff_days": {"senior": "-1"}}, "staff_days.senior", "负"),
    ({"staff_days": {"senior": "abc"}}, "staff_days.senior", "数"),
    ({"staff_days": {"senior": 1.5}}, "staff_days.senior", "数"),
    ({"staff_days": {"partner": "1"}}, "staff_days.partner", "partner"),
    ({"experts": [{"title": "高级职称", "days": "1.3"}]}, "experts.1.days", "0.5"),
    ({"experts": [{"title": "教授", "days": "1"}]}, "experts.1.title", "教授"),
    ({"experts": [{"title": "院士", "days": "1", "count": "-2"}]}, "experts.1.count", "负"),
    ({"evaluated_amount": "-5"}, "evaluated_amount", "负"),
    ({"evaluated_amount": "12.345"}, "evaluated_amount", "两位"),
    ({"direct_costs": [{"label": "差旅", "amount": "x"}]}, "direct_costs.1.amount", ""),
    ({"stage": "audit"}, "stage", ""),
])
def test_bad_inputs_are_refused_naming_the_field(app, inputs, field, words):
    from plugins.agency_fees.calc import InputError, parse_inputs
    from plugins.agency_fees.schedule import parse_rules

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        with pytest.raises(InputError) as exc:
            parse_inputs({"stage": "evaluation", **inputs}, parse_rules(RULES))
        assert field in exc.value.errors
        assert words in exc.value.errors[field]


@pytest.mark.parametrize("data, field", [
    (rules(scale={"use": "check", "bands": [
        {"lower": "0", "upper": "100", "rate_pct": "1"},
        {"lower": "50", "upper": None, "rate_pct": "1"}]}), "scale.bands.2.lower"),
    (rules(scale={"use": "check", "bands": [
        {"lower": "0", "upper": "100", "rate_pct": "1"},
        {"lower": "200", "upper": None, "rate_pct": "1"}]}), "scale.bands.2.lower"),
    (rules(scale={"use": "check", "bands": [
        {"lower": "0", "upper": "100", "rate_pct": "1"}]}), "scale.bands.1.upper"),
    (rules(scale={"use": "cap", "bands": [
        {"lower": "0", "upper": None, "rate_pct": "1", "fixed": "10"}]}), "scale.bands.1"),
    (rules(staff_day_rates={}, expert_day_rates={}), "staff_day_rates"),
    (rules(staff_day_rates={"senior": "-1"}), "staff_day_rates.senior"),
    (rules(staff_day_rates={"senior": "12.345"}), "staff_day_rates.senior"),
    (rules(management_pct="abc"), "management_pct"),
    (rules(method="nonsense"), "method"),
    (rules(kind_coefficients={"project": "0"}), "kind_coefficients.project"),
    (rules(colour="blue"), "rules"),
])
def test_bad_rules_are_refused_naming_the_field(app, data, field):
    from plugins.agency_fees.schedule import RulesError, parse_rules

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from plugins.agency_fees import service

        with pytest.raises(RulesError) as exc:
            parse_rules(data, service.known_method)
        assert field in exc.value.errors, exc.value.errors


def test_rules_survive_flatten_and_unflatten(ctx):
    from plugins.agency_fees.schedule import flatten, parse_rules, to_json, unflatten

    stored = to_json(parse_rules(RULES))
    assert to_json(parse_rules(unflatten(flatten(stored)))) == stored


def test_totals_only_gives_the_same_total_as_the_explained_quote(ctx):
    from plugins.agency_fees.calc import BUILTIN, parse_inputs
    from plugins.agency_fees.schedule import parse_rules

    for data in (RULES, rules(scale={"use": "cap", "bands": [
            {"lower": "0", "upper": None, "rate_pct": "1"}]}), rules(method="sliding_scale")):
        r = parse_rules(data)
        for inputs in ({"stage": "monitoring", "staff_days": {"senior": "1"}},
                       {"stage": "evaluation", "evaluated_amount": "2500000",
                        "staff_days": {"senior": "30", "junior": "12.5"},
                        "experts": [{"title": "院士", "days": "3.5", "remote_reviews": 2}],
                        "survey_samples": 7}):
            i = parse_inputs(inputs, r)
            method = BUILTIN[r.method]
            assert method(r, i, explain=False)[-1].amount == method(r, i)[-1].amount
