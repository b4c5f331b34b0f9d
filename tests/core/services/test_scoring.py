"""The scoring engine: methods, weights, grade bands, traces and their recomputation."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.plugins import hookimpl, make_manager
from core.services.scoring import (
    SELF_EVALUATION_2020,
    Band,
    Indicator,
    MethodResult,
    ScoreTrace,
    ScoringError,
    ScoringRules,
    check_sheet,
    hook_resolver,
    rules_for_year,
    score,
)

R = SELF_EVALUATION_2020


def leaf(method, inputs=None, params=None, weight=100, name="指标"):
    """A sheet with one indicator carrying the whole weight."""
    return Indicator("自评", children=[Indicator(name, weight, method, inputs or {}, params or {})])


def points(method, inputs=None, params=None, rules=R):
    return score(leaf(method, inputs, params), rules).total


def problems_of(exc_info):
    return [(p.path, str(p.message)) for p in exc_info.value.problems]


def self_evaluation_sheet():
    return Indicator("自评", children=[
        Indicator("预算执行率", 10, "rate", {"rate": D("95.5")}),
        Indicator("产出", children=[
            Indicator("数量", children=[
                Indicator("完成率", 30, "proportional", {"target": D(100), "actual": D(80)})]),
            Indicator("质量", children=[
                Indicator("差错率", 20, "reverse", {"target": D(5), "actual": D(7)})]),
        ]),
        Indicator("效益", 30, children=[
            Indicator("社会效益", 30, "qualitative", {"level": "partly", "percent": D("65")})]),
        Indicator("满意度", children=[
            Indicator("服务对象满意度", 10, "expert",
                      {"scores": [D(8), D(9), D("9.5"), D(6)]}, {"drop_extremes": True})]),
    ])


# --- Methods ------------------------------------------------------------------

def test_proportional_gives_full_points_when_met_and_a_share_otherwise():
    assert points("proportional", {"target": D(100), "actual": D(120)}) == D("100.00")
    assert points("proportional", {"target": D(3), "actual": D(2)}) == D("66.67")


def test_reverse_inverts_the_ratio_for_lower_is_better():
    assert points("reverse", {"target": D(10), "actual": D(8)}) == D("100.00")
    assert points("reverse", {"target": D(10), "actual": D(40)}) == D("25.00")


def test_rate_is_weight_times_execution_rate_capped_at_the_weight():
    sheet = Indicator("自评", children=[
        Indicator("预算执行率", 10, "rate", {"rate": D("87.5")}),
        Indicator("其他", 90, "rate", {"rate": D(0)})])
    assert score(sheet, R).node("预算执行率").points == D("8.75")
    assert points("rate", {"rate": D(130)}) == D("100.00")


def test_deduction_takes_points_per_defect_and_stops_at_zero():
    assert points("deduction", {"defects": 3}, {"per_defect": D(5)}) == D("85.00")
    assert points("deduction", {"defects": 50}, {"per_defect": D(5)}) == D("0.00")


def test_qualitative_levels_use_the_rule_ranges():
    assert points("qualitative", {"level": "achieved"}) == D("100.00")
    assert points("qualitative", {"level": "partly", "percent": D(75)}) == D("75.00")
    assert points("qualitative", {"level": "B"}, {"scale": "letter"}) == D("85.00")
    with pytest.raises(ScoringError) as exc:
        points("qualitative", {"level": "partly", "percent": D(85)})
    assert "at most 80" in str(exc.value)
    with pytest.raises(ScoringError) as exc:
        points("qualitative", {"level": "great"})
    assert "achieved, partly, not_achieved" in str(exc.value)


def test_expert_score_is_the_mean_optionally_without_highest_and_lowest():
    scores = {"scores": [D(60), D(80), D(90), D(100)]}
    assert points("expert", scores) == D("82.50")
    assert points("expert", scores, {"drop_extremes": True}) == D("85.00")
    with pytest.raises(ScoringError) as exc:
        points("expert", {"scores": [D(60), D(80)]}, {"drop_extremes": True})
    assert "at least 3 scores" in str(exc.value)


def test_half_up_rounding_happens_once_per_leaf():
    # 100 × 1 / 8 = 12.5 exactly; 0.125 × 100 / 100 → 0.125 rounds half up to 0.13
    sheet = Indicator("自评", children=[
        Indicator("a", D("0.25"), "proportional", {"target": D(2), "actual": D(1)}),
        Indicator("b", D("99.75"), "rate", {"rate": D(100)})])
    trace = score(sheet, R)
    assert trace.node("a").points == D("0.13")
    assert trace.total == D("99.88") == trace.node("a").points + trace.node("b").points


# --- A whole sheet, its trace and its recomputation ---------------------------

def test_a_self_evaluation_sheet_scores_and_explains_each_line():
    trace = score(self_evaluation_sheet(), R)
    shown = {path: (node.points, node.formula) for path, node in trace.lines()}
    assert shown["预算执行率"] == (D("9.55"), "10 × min(95.5, 100) %")
    assert shown["产出/数量/完成率"] == (D("24.00"), "30 × 80 / 100")
    assert shown["产出/质量/差错率"][0] == D("14.29")
    assert shown["产出"][0] == D("38.29")
    assert shown["效益/社会效益"] == (D("19.50"), "partly: 30 × 65 %")
    assert shown["满意度/服务对象满意度"] == (D("8.50"), "(8 + 9) / 2")
    assert trace.total == D("75.84")
    assert trace.grade == "fair"


def test_trace_round_trips_through_json_and_recomputes_to_the_same_figure():
    trace = score(self_evaluation_sheet(), R)
    stored = json.loads(json.dumps(trace.to_dict(), ensure_ascii=False))
    loaded = ScoreTrace.from_dict(stored)
    assert loaded.to_dict() == trace.to_dict()
    assert loaded.recompute().total == D("75.84")
    assert loaded.reproduces()
    assert stored["rules"]["code"] == "self-evaluation-2020"
    assert stored["tree"]["children"][0]["inputs"] == {"rate": "95.5"}


def test_a_tampered_trace_is_detected():
    stored = score(self_evaluation_sheet(), R).to_dict()
    stored["tree"]["children"][0]["inputs"]["rate"] = "100"
    trace = ScoreTrace.from_dict(stored)
    assert not trace.reproduces()
    stored["total"] = "99.00"
    with pytest.raises(ScoringError):
        ScoreTrace.from_dict(stored)


def test_recompute_uses_the_stored_rule_version_not_todays():
    rounding_down = replace(R, code="self-evaluation-2030", valid_from=2030,
                            rounding="ROUND_DOWN")
    sheet = leaf("proportional", {"target": D(3), "actual": D(2)})
    old = score(sheet, R)
    assert score(sheet, rounding_down).total == D("66.66")
    assert ScoreTrace.from_dict(old.to_dict()).recompute().total == D("66.67")
    assert rules_for_year([R, rounding_down], 2029) is R
    assert rules_for_year([R, rounding_down], 2031) is rounding_down
    with pytest.raises(ScoringError):
        rules_for_year([R], 2019)


# --- Bad sheets, rules and inputs ---------------------------------------------

def test_weights_that_do_not_add_up_are_refused_with_the_path():
    sheet = Indicator("自评", children=[
        Indicator("产出", 50, children=[Indicator("数量", 30, "rate", {"rate": D(1)}),
                                         Indicator("质量", 10, "rate", {"rate": D(1)})]),
        Indicator("效益", 40, "rate", {"rate": D(1)})])
    with pytest.raises(ScoringError) as exc:
        score(sheet, R)
    assert ("产出", "The weights add up to 40, not 50.") in problems_of(exc)
    sheet.children[0].children[0].weight = 40
    assert [str(p) for p in check_sheet(sheet, R)] == ["自评: The weights add up to 90, not 100."]


def test_unknown_method_and_float_inputs_are_all_listed():
    sheet = Indicator("自评", children=[
        Indicator("产出", children=[
            Indicator("数量", children=[Indicator("完成率", 40, "magic")]),
            Indicator("质量", 10, "proportional", {"target": 1.5, "actual": D(1)})]),
        Indicator("效益", 50.0, "rate", {"rate": D(1)})])
    with pytest.raises(ScoringError) as exc:
        score(sheet, R)
    found = problems_of(exc)
    assert ("产出/数量/完成率", "Unknown scoring method “magic”.") in found
    assert ("产出/质量/inputs/target",
            "“target” must be an exact decimal, not a floating point number.") in found
    assert ("效益/weight", "“weight” must be an exact decimal, not a floating point number.") in found


def test_missing_and_impossible_inputs_name_the_field():
    sheet = Indicator("自评", children=[
        Indicator("a", 50, "proportional", {"target": D(0)}),
        Indicator("b", 50, "deduction", {"defects": D("1.5")}, {"per_defect": D(2)})])
    with pytest.raises(ScoringError) as exc:
        score(sheet, R)
    assert problems_of(exc) == [("a/target", "“target” must be greater than 0."),
                                ("a/actual", "“actual” is missing."),
                                ("b/defects", "“defects” must be a whole number.")]


def test_bands_with_a_gap_or_an_overlap_are_refused():
    def bands(*pairs):
        return tuple(Band(code, D(lo), D(hi)) for code, lo, hi in pairs)

    with pytest.raises(ScoringError) as exc:
        replace(R, bands=bands(("poor", 0, 60), ("fair", 65, 80), ("good", 80, 100)))
    assert "Gap between the bands “poor” and “fair”: 60–65 is in no band." in str(exc.value)
    with pytest.raises(ScoringError) as exc:
        replace(R, bands=bands(("poor", 0, 70), ("fair", 60, 100)))
    assert "overlap between 60 and 70" in str(exc.value)
    with pytest.raises(ScoringError) as exc:
        replace(R, bands=bands(("poor", 10, 100)))
    assert "must start at 0" in str(exc.value)
    with pytest.raises(ScoringError) as exc:
        replace(R, rounding="ROUND_NICELY", default_weights={"outputs": D(60)})
    assert [p.path for p in exc.value.problems] == ["rounding", "default_weights"]


def test_rules_survive_json_and_bad_rule_data_is_refused():
    assert ScoringRules.from_dict(json.loads(json.dumps(R.to_dict()))) == R
    data = R.to_dict()
    data["qualitative_scales"]["achievement"][1]["default"] = "90"
    with pytest.raises(ScoringError) as exc:
        ScoringRules.from_dict(data)
    assert exc.value.problems[0].path == "qualitative_scales/achievement/partly"


def test_float_rule_data_is_refused():
    with pytest.raises(ScoringError) as exc:
        ScoringRules.from_dict({**R.to_dict(), "total_weight": 100.0})
    assert "floating point" in str(exc.value)


# --- Plugins ------------------------------------------------------------------

class HalfPlugin:
    """A plugin that adds the method "half" (half the weight when done)."""

    @hookimpl
    def jixiao_score_method(self, method):
        if method != "half":
            return None

        def half(call):
            done = call.choice("done", ["yes", "no"])
            call.check()
            return MethodResult(call.weight / 2 if done == "yes" else D(0), "½ × weight")
        return half


class BrokenPlugin:
    @hookimpl
    def jixiao_score_method(self, method):
        return (lambda call: call.weight * 2) if method == "double" else None


def test_plugins_add_methods_through_the_hook():
    pm = make_manager(load_entrypoints=False, builtins={})
    pm.register(HalfPlugin())
    resolver = hook_resolver(pm)
    trace = score(leaf("half", {"done": "yes"}), R, resolver)
    assert trace.total == D("50.00")
    assert ScoreTrace.from_dict(trace.to_dict()).reproduces(resolver)
    with pytest.raises(ScoringError) as exc:
        score(leaf("half", {"done": "yes"}), R)  # without the plugin
    assert "Unknown scoring method “half”." in str(exc.value)


def test_a_plugin_method_cannot_exceed_the_weight():
    pm = make_manager(load_entrypoints=False, builtins={})
    pm.register(BrokenPlugin())
    with pytest.raises(ScoringError) as exc:
        score(leaf("double"), R, hook_resolver(pm))
    assert "gave 200.00 points, outside 0–100" in str(exc.value)


# --- Properties ---------------------------------------------------------------

weights = st.decimals(min_value=D("0.01"), max_value=D(100), places=2)
amounts = st.decimals(min_value=D(0), max_value=D(10) ** 9, places=4)
positive = st.decimals(min_value=D("0.0001"), max_value=D(10) ** 9, places=4)


def leaf_points(method, weight, inputs, params=None):
    rest = R.total_weight - weight
    children = [Indicator("x", weight, method, inputs, params or {})]
    if rest:
        children.append(Indicator("rest", rest, "rate", {"rate": D(0)}))
    return score(Indicator("root", children=children), R).node("x").points


@settings(max_examples=150, deadline=None)
@given(weight=weights, target=positive, a=amounts, b=amounts)
def test_proportional_is_bounded_and_monotone(weight, target, a, b):
    low, high = sorted((a, b))
    p_low = leaf_points("proportional", weight, {"target": target, "actual": low})
    p_high = leaf_points("proportional", weight, {"target": target, "actual": high})
    assert D(0) <= p_low <= p_high <= weight
    assert p_low.as_tuple().exponent == -2


@settings(max_examples=150, deadline=None)
@given(weight=weights, target=amounts, a=amounts, b=amounts)
def test_reverse_is_bounded_and_falls_as_actual_rises(weight, target, a, b):
    low, high = sorted((a, b))
    p_low = leaf_points("reverse", weight, {"target": target, "actual": low})
    p_high = leaf_points("reverse", weight, {"target": target, "actual": high})
    assert weight >= p_low >= p_high >= D(0)


@settings(max_examples=100, deadline=None)
@given(weight=weights, per=st.decimals(min_value=D("0.01"), max_value=D(50), places=2),
       a=st.integers(0, 1000), b=st.integers(0, 1000))
def test_deduction_is_bounded_and_falls_with_defects(weight, per, a, b):
    few, many = sorted((a, b))
    p_few = leaf_points("deduction", weight, {"defects": few}, {"per_defect": per})
    p_many = leaf_points("deduction", weight, {"defects": many}, {"per_defect": per})
    assert weight >= p_few >= p_many >= D(0)


@settings(max_examples=100, deadline=None)
@given(weight=weights, scores=st.lists(st.decimals(min_value=0, max_value=1, places=3),
                                       min_size=3, max_size=9), drop=st.booleans())
def test_expert_score_lies_between_the_lowest_and_highest(weight, scores, drop):
    scaled = [s * weight for s in scores]
    p = leaf_points("expert", weight, {"scores": scaled}, {"drop_extremes": drop})
    assert R.quantize(min(scaled)) <= p <= R.quantize(max(scaled)) <= weight


@settings(max_examples=100, deadline=None)
@given(level=st.sampled_from(["achieved", "partly", "not_achieved"]), weight=weights,
       data=st.data())
def test_qualitative_points_stay_in_the_level_range(level, weight, data):
    lv = {x.code: x for x in R.scale("achievement")}[level]
    pct = data.draw(st.decimals(min_value=lv.lower, max_value=lv.upper, places=2))
    p = leaf_points("qualitative", weight, {"level": level, "percent": pct})
    assert R.quantize(weight * lv.lower / 100) <= p <= R.quantize(weight * lv.upper / 100)


@given(total=st.decimals(min_value=0, max_value=100, places=2))
def test_every_total_gets_exactly_the_band_it_lies_in(total):
    expected = ("excellent" if total >= 90 else "good" if total >= 80
                else "fair" if total >= 60 else "poor")
    assert R.grade(total).code == expected


@pytest.mark.parametrize(("total", "grade"), [
    ("100", "excellent"), ("90", "excellent"), ("89.99", "good"), ("80.00", "good"),
    ("79.99", "fair"), ("60", "fair"), ("59.99", "poor"), ("0", "poor")])
def test_band_boundaries_are_exact(total, grade):
    assert R.grade(D(total)).code == grade


def test_totals_outside_the_scale_have_no_band():
    with pytest.raises(ScoringError):
        R.grade(D("100.01"))
    with pytest.raises(ScoringError):
        R.grade(D("-0.01"))


@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.tuples(st.integers(1, 40), amounts, positive), min_size=1, max_size=6))
def test_random_sheets_reproduce_exactly_from_json(parts):
    total = sum(w for w, _, _ in parts)
    children = [Indicator(f"i{n}", w, "proportional", {"target": t, "actual": a})
                for n, (w, a, t) in enumerate(parts)]
    rules = replace(R, total_weight=D(total), default_weights={},
                    bands=(Band("all", D(0), D(total)),))
    trace = score(Indicator("root", children=children), rules)
    assert trace.total == sum(c.points for c in trace.root.children)
    assert isinstance(trace.total, D)
    again = ScoreTrace.from_dict(json.loads(json.dumps(trace.to_dict())))
    assert again.recompute().to_dict() == trace.to_dict()


# --- Kernels and JSON text: the batch path gives exactly what the methods give --

def _by_method(method, weight, inputs):
    """What the method itself gives (its kernel not asked), rounded like the engine."""
    import decimal

    from core.services.scoring import CONTEXT, METHODS, MethodCall
    with decimal.localcontext(CONTEXT):
        found = METHODS[method](MethodCall(weight, inputs, {}, R))
    return R.quantize(found.points), found.formula


def _by_kernel(method, weight, inputs):
    import decimal

    from core.services.scoring import CONTEXT, METHODS
    with decimal.localcontext(CONTEXT):
        found = METHODS[method].kernel(weight, inputs, R)
    return None if found is None else (R.quantize(found[0]), found[1])


texts = st.one_of(amounts.map(lambda d: format(d, "f")),
                  st.sampled_from(["0", "-1", "1E+2", " 7 ", "abc", "NaN", "", "1_000"]),
                  st.none(), st.integers(-5, 5))


@settings(max_examples=300, deadline=None)
@given(method=st.sampled_from(["proportional", "reverse"]), weight=weights, target=texts,
       actual=texts)
def test_a_kernel_gives_exactly_what_its_method_gives_or_leaves_the_case_to_it(
        method, weight, target, actual):
    inputs = {"target": target, "actual": actual}
    fast = _by_kernel(method, weight, inputs)
    try:
        slow = _by_method(method, weight, inputs)
    except ScoringError:
        assert fast is None  # a refused input is never scored by the kernel
        return
    assert fast is None or fast == slow


@settings(max_examples=200, deadline=None)
@given(level=st.sampled_from(["achieved", "partly", "not_achieved", "bad", None]),
       weight=weights, percent=st.one_of(st.none(), texts))
def test_the_qualitative_kernel_matches_the_method(level, weight, percent):
    inputs = {"level": level} if percent is None else {"level": level, "percent": percent}
    fast = _by_kernel("qualitative", weight, inputs)
    try:
        slow = _by_method("qualitative", weight, inputs)
    except ScoringError:
        assert fast is None
        return
    assert fast is None or fast == slow


def test_a_stored_trace_is_checked_by_the_method_not_the_kernel_that_made_it():
    from core.services.scoring import MethodCall, kernel

    def half(call: MethodCall) -> MethodResult:
        return MethodResult(call.weight / 2, f"{call.weight} / 2")

    @kernel(half)
    def _wrong(w, inputs, rules):  # a kernel that disagrees with its method
        return w, f"{w} / 2"

    methods = {"half": half}
    sheet = leaf("half", {})
    made = score(sheet, R, methods.get)
    assert made.total == 100  # the kernel's figure
    assert score(sheet, R, methods.get, kernels=False).total == 50
    assert made.recompute(methods.get).total == 50
    assert not made.reproduces(methods.get)  # so a wrong kernel cannot vouch for itself
