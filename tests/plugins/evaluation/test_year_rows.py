"""The year pass scores a saved sheet from its rows exactly as the stateless API scores it.

``year.RowScorer`` takes the rows as the driver gives them (NUMERIC as Decimal,
int or float) and either gives the figures itself or hands the sheet to
``sheet.score_sheet``: whichever it does, the score and grade — or the named
problems — are what the API gives for that sheet.
"""

from __future__ import annotations

import decimal
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.services.scoring import CONTEXT, hook_resolver
from plugins.evaluation.sheet import SheetError, score_sheet
from plugins.evaluation.year import LINE_COLUMNS, RowScorer, sheet_of_rows

RULE = "self-evaluation-2020"
names1 = st.sampled_from(["产出", "效益", "满意度", " 产出", "产出/数量", "", "预算执行率"])
names2 = st.sampled_from(["数量", "质量", "数量 ", "", "数量/指标0"])
names = st.sampled_from(["完成率", "覆盖率", "合格率", "完成率 ", "指标0", "数量/指标0"])
comparators = st.sampled_from(["ge", "le", "eq", "qualitative", ">=", "≤", "=", "定性", "bad"])
methods = st.sampled_from([None, "", "proportional", "reverse", "equal", "qualitative", "rate",
                           " proportional"])
numbers = st.sampled_from(["100", "95.5", "0", "-5", "1,000", "80%", "abc", "Infinity", "NaN",
                           "", "1e2", " 97 ", "1_000", "120", "0.01", "12", "13", "七"])
actuals = st.one_of(numbers, st.none(),
                    st.decimals(min_value=0, max_value=500, places=2).map(str))
units = st.sampled_from([None, "", "%", "0", "人"])
grades = st.sampled_from([None, "achieved", "partly", "not_achieved", "bad"])
ratios = st.sampled_from([None, D("0.9"), D("0.65"), D("0.5"), D("1"), D("0.3"), D("0.7")])
# how the driver gives a NUMERIC value: PostgreSQL a Decimal, SQLite an int or a float
ODD = {"l1": names1, "l2": names2, "name": names, "comparator": comparators,
       "method": methods, "unit": units, "target": numbers, "actual": actuals,
       "grade": grades, "ratio": ratios}
as_driver = st.sampled_from([lambda d: d, lambda d: int(d) if d == int(d) else float(d),
                             float])


@st.composite
def sheets(draw):
    n = draw(st.integers(1, 5))
    exec_weight = draw(st.sampled_from([D(10), D("10.5"), D(0), D("9.999")]))
    share = ((D(100) - exec_weight) / n).quantize(D("0.01"), decimal.ROUND_DOWN)
    weights = [share] * (n - 1) + [D(100) - exec_weight - share * (n - 1)]
    if draw(st.booleans()):  # sometimes break the sum or the places
        weights[0] += draw(st.sampled_from([D("0.001"), D(1), -weights[0]]))
    convert = draw(as_driver)
    budget = draw(st.sampled_from([D(100000), D(0), D(-1), D("1234567.89")]))
    spent = draw(st.sampled_from([D(80000), D(0), D(120000), D(-5), D("99999.99")]))
    ev = (1, RULE, convert(budget), convert(spent), convert(exec_weight), 1)
    lines = []
    for position in range(n):
        qualitative = draw(st.booleans())
        line = {"l1": ["产出", "效益", "满意度"][position % 3], "l2": "数量",
                "name": f"指标{position}",
                "comparator": "qualitative" if qualitative
                else draw(st.sampled_from(["ge", "le", "eq"])),
                "method": None, "unit": draw(st.sampled_from([None, "%"])),
                "target": draw(st.sampled_from(["100", "95.5", "12", "0.01"])),
                "actual": draw(st.decimals(min_value=0, max_value=500, places=2).map(str)),
                "grade": draw(grades) if qualitative else None,
                "ratio": draw(ratios) if qualitative else None}
        if draw(st.integers(0, 2)) == 0:  # one field out of the ordinary
            field = draw(st.sampled_from(sorted(ODD)))
            line[field] = draw(ODD[field])
        lines.append((1, line["l1"], line["l2"], line["name"], line["comparator"],
                      line["target"], line["unit"], convert(weights[position]), line["method"],
                      line["actual"], line["grade"],
                      None if line["ratio"] is None else convert(line["ratio"])))
    return ev, lines


def _api(ev, lines, resolver):
    """What ``score_sheet`` gives for the sheet of these rows: (score, grade) or problems."""
    try:
        result = score_sheet(sheet_of_rows(ev, lines), resolver=resolver)
    except SheetError as exc:
        return sorted((p.path, str(p.message)) for p in exc.problems)
    return result.score, result.grade


@pytest.fixture(scope="module")
def resolver(app):
    return hook_resolver(app)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheet=sheets())
def test_the_row_path_gives_what_the_api_gives(app, resolver, sheet):
    _agrees_with_the_api(app, resolver, *sheet)


def _agrees_with_the_api(app, resolver, ev, lines):
    """The pass's answer is the API's; where the row path scored itself, it agrees too."""
    scorer = RowScorer(resolver)
    with app.test_request_context(), decimal.localcontext(CONTEXT):
        expected = _api(ev, lines, resolver)
        got = scorer.score(ev, lines)
        if isinstance(got, list):
            got = sorted((p.path, str(p.message)) for p in got)
        assert got == expected
        fast = _rows_only(scorer, ev, lines)
        if fast is not None:
            assert isinstance(expected, tuple) and fast == expected


def _rows_only(scorer, ev, lines):
    try:
        return scorer._from_rows(ev, lines, scorer._rules(RULE))
    except (ArithmeticError, AttributeError, TypeError, ValueError):
        return None


def test_a_plain_sheet_is_scored_from_its_rows(app, resolver):
    """The usual sheet does not need the API's path (so the pass is fast), and agrees."""
    ev = (1, RULE, 100000.0, 80000.0, 10, 1)
    lines = [(1, "产出", "数量", "完成数量", "ge", "100", None, 40, None, "97", None, None),
             (1, "产出", "时效", "完成时限", "le", "12", "天", 20, None, "13", None, None),
             (1, "效益", "经济效益", "节约资金", "eq", "50", None, 10.5, None, "45", None, None),
             (1, "效益", "社会效益", "服务水平", "qualitative", "提升", None, 19.5, None, None,
              "achieved", 0.9)]
    scorer = RowScorer(resolver)
    with app.test_request_context(), decimal.localcontext(CONTEXT):
        fast = _rows_only(scorer, ev, lines)
        # 8.00 + 38.80 + 18.46 + 9.45 + 17.55
        assert fast == (D("92.26"), "excellent") == _api(ev, lines, resolver)
        lines[0] = lines[0][:9] + ("1,000",) + lines[0][10:]  # a comma: the API's path
        assert _rows_only(scorer, ev, lines) is None
        assert scorer.score(ev, lines) == _api(ev, lines, resolver)


PLAIN = [(1, "产出", "数量", "完成数量", "ge", "100", None, 40, None, "97", None, None),
         (1, "产出", "时效", "完成时限", "le", "12", "天", 20, None, "13", None, None),
         (1, "效益", "经济效益", "节约资金", "eq", "50", None, 10.5, None, "45", None, None),
         (1, "效益", "社会效益", "服务水平", "qualitative", "提升", None, 19.5, None, None,
          "achieved", 0.9)]
FIELD = {name: n for n, name in enumerate(LINE_COLUMNS)}


def _with(line: int, **changes):
    rows = [list(r) for r in PLAIN]
    for key, value in changes.items():
        rows[line][FIELD[key]] = value
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("lines", [
    _with(0, actual="Infinity"), _with(0, actual="NaN"), _with(1, actual="-Infinity"),
    _with(0, actual="1,000"), _with(0, target_value="1,000"), _with(0, actual=None),
    _with(0, unit="0"),  # "100" ends with the unit: score_sheet reads the target as 10
    _with(3, ratio=0.5),  # outside the band of "achieved"
    _with(3, grade="excellent"), _with(0, weight=40.001), _with(0, weight=39),
    _with(0, method="rate"), _with(0, method=" proportional"), _with(0, comparator="bad"),
    _with(0, name=" 完成数量"), _with(1, name="完成数量", level2="数量"),
    _with(1, name="完成数量 ", level2="数量"), _with(0, level1="预算执行率"),
    _with(0, level1="产出", level2="数量/x", name="a") [:1]
    + _with(1, level1="产出/数量", level2="x", name="a")[1:],
    _with(2, target_value="0"), _with(0, target_value="-5"), _with(1, actual="-1"),
], ids=lambda lines: "|".join(str(v) for v in lines[0][1:10]))
def test_what_the_rows_do_not_give_plainly_is_scored_or_refused_like_the_api(
        app, resolver, lines):
    _agrees_with_the_api(app, resolver, (1, RULE, 100000.0, 80000.0, 10, 1), lines)


def test_a_budget_of_0_is_scored_like_the_api_without_budget_execution(app, resolver):
    """The row path leaves it to score_sheet: execution not applicable, its weight shared."""
    ev = (1, RULE, 0.0, 100.0, 10, 1)
    _agrees_with_the_api(app, resolver, ev, PLAIN)
    with app.test_request_context(), decimal.localcontext(CONTEXT):
        assert _rows_only(RowScorer(resolver), ev, PLAIN) is None


@pytest.mark.parametrize("budget,spent", [(100000.0, -5.0), (-1.0, 0.0), (-1.0, 100.0)])
def test_a_bad_budget_or_amount_spent_is_refused_like_the_api(app, resolver, budget, spent):
    ev = (1, RULE, budget, spent, 10, 1)
    scorer = RowScorer(resolver)
    with app.test_request_context(), decimal.localcontext(CONTEXT):
        got = scorer.score(ev, PLAIN)
        assert isinstance(got, list) and got
        assert sorted((p.path, str(p.message)) for p in got) == _api(ev, PLAIN, resolver)
