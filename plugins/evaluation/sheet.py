"""Scoring a self-evaluation sheet (单位自评表): the one code path of the API, pages and CLI.

``score_sheet(data)`` takes the sheet as plain data — the JSON body of
``POST /api/v1/scoring/self-evaluation`` — and scores it with the core engine
(``core.services.scoring.score``). A saved ``SelfEvaluation`` is turned into exactly
this data (``service.sheet_data``) and scored by the same function.

The tree: budget execution (预算执行率) as the first leaf, then one group per
level-1 and level-2 category with the indicators as leaves. Default methods
by comparator (an indicator may name another method):

* execution: weight × min(spent / budget, 1)                (``budget_execution``)
* ``>=``: weight × min(actual / target, 1)                  (``proportional``)
* ``<=``: full points when actual ≤ target, else weight × target / actual (``reverse``)
* ``=``: weight × max(0, 1 − |actual − target| / |target|)  (``equal``)
* range ``low-high``: full points within [low, high], below it weight × actual / low,
  above it weight × high / actual                           (``range``)
* qualitative: a grade (achieved / partly / not_achieved) and a ``ratio`` of the
  weight within the grade's band (``qualitative``)

Each leaf is rounded to 0.01 half up by the engine, the total is the sum of the
leaves, and the weights (execution + indicators) must add up to the rule
version's total (100). An item with a budget of 0 has no budget execution when
the rule version says ``zero_budget = "share"``: the leaf is left out and its
weight is shared out over the indicators in proportion to their weights.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from flask_babel import lazy_gettext as _l

from core.services.scoring import (
    HUNDRED,
    Indicator,
    MethodCall,
    MethodResult,
    Problem,
    QualitativeLevel,
    Resolver,
    ScoreTrace,
    ScoringError,
    ScoringRules,
    grade_label,
    kernel,
    number_or_none,
    proportional_points,
    reverse_points,
    score,
)
from core.services.scoring import method_label as core_method_label
from plugins.evaluation.rules import execution_weight, find_rules
from plugins.evaluation.weights import apportion

ROOT, EXECUTION = "单位自评", "预算执行率"
#: accepted spellings → the comparator code (the targets plugin stores ge/le/eq/qualitative)
COMPARATORS = {">=": "ge", "≥": "ge", "ge": "ge", "<=": "le", "≤": "le", "le": "le",
               "=": "eq", "eq": "eq", "range": "range", "区间": "range",
               "qualitative": "qualitative", "定性": "qualitative"}
COMPARATOR_SIGNS = {"ge": "≥", "le": "≤", "eq": "=", "range": "区间", "qualitative": "定性"}
DEFAULT_METHODS = {"ge": "proportional", "le": "reverse", "eq": "equal", "range": "range",
                   "qualitative": "qualitative"}
#: methods of one target value: a range's "low-high" target is scored by ``range`` instead
SINGLE_TARGET_METHODS = frozenset({"proportional", "reverse", "equal"})
#: a range target as the targets plugin stores it: "90-100" (also ~, ～, —, 至)
RANGE_TEXT = re.compile(r"^\s*(-?[\d.,]+)\s*[-~～—至]\s*(-?[\d.,]+)\s*$")
GRADE_SCALE = "achievement"
ZERO = Decimal(0)


class SheetError(ValueError):
    """Bad sheet data; ``problems`` name the field (``indicators.2.actual``) of each."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def details(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in self.problems:
            out.setdefault(p.path or "sheet", []).append(str(p.message))
        return out


@dataclass(frozen=True)
class LineScore:
    level1: str
    level2: str
    name: str
    comparator: str
    target: str
    actual: str
    weight: Decimal
    method: str
    points: Decimal
    formula: str

    @property
    def missed(self) -> bool:
        return self.points < self.weight


@dataclass(frozen=True)
class SheetScore:
    """A scored sheet: the engine's trace, and per indicator what the page and API show.

    ``leaves`` holds, per indicator in input order, (path, name, comparator, target,
    actual, method); the lines with their points are read from the trace when first asked for.
    """

    trace: ScoreTrace
    leaves: tuple[tuple[str, str, str, str, str, str], ...]

    @property
    def score(self) -> Decimal:
        return self.trace.total

    @cached_property
    def grade(self) -> str:
        return self.trace.grade

    @property
    def execution(self) -> Any:
        """The budget execution node, None when not applicable (a budget of 0)."""
        first = self.trace.root.children[0]
        return first if first.name == EXECUTION and not first.children else None

    @property
    def execution_points(self) -> Decimal | None:
        return None if self.execution is None else self.execution.points

    @property
    def execution_formula(self) -> str:
        return "" if self.execution is None else self.execution.formula

    @cached_property
    def lines(self) -> tuple[LineScore, ...]:
        nodes = dict(self.trace.lines())
        out = []
        for path, name, comparator, target, actual, method in self.leaves:
            level1, level2 = path.split("/")[:2]
            node = nodes[path]
            out.append(LineScore(level1, level2, name, comparator, target, actual, node.weight,
                                 method, node.points, node.formula))
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": str(self.score), "grade": self.grade,
            "grade_label": str(grade_label(self.grade)),
            "rule_version": self.trace.rules.code,
            "execution_points": None if self.execution is None else str(self.execution_points),
            "execution_formula": self.execution_formula,
            "indicators": [{"level1": ln.level1, "level2": ln.level2, "name": ln.name,
                            "weight": str(ln.weight), "method": ln.method,
                            "points": str(ln.points), "formula": ln.formula}
                           for ln in self.lines],
        }


# --- the two methods the core does not have -------------------------------------------

def execution_points(w: Decimal, budget: Decimal, spent: Decimal) -> Decimal | None:
    """weight × min(spent / budget, 1) for finite numbers; None outside the domain."""
    if budget <= 0 or spent < 0:
        return None
    return w * min(spent / budget, Decimal(1))


def equal_points(w: Decimal, target: Decimal, actual: Decimal) -> Decimal | None:
    """weight × max(0, 1 − |actual − target| / |target|); None for a target of 0."""
    if target == 0:
        return None
    return w * max(Decimal(0), 1 - abs(actual - target) / abs(target))


def budget_execution(call: MethodCall) -> MethodResult:
    """Execution points: weight × min(spent / budget, 1)."""
    budget = call.number("budget", above=0)
    spent = call.number("spent", minimum=0)
    call.check()
    w = call.weight
    return MethodResult(execution_points(w, budget, spent),  # type: ignore[arg-type]
                        f"{w} × min({spent} / {budget}, 1)")


def equal(call: MethodCall) -> MethodResult:
    """An ``=`` target: weight × max(0, 1 − |actual − target| / |target|)."""
    target = call.number("target")
    actual = call.number("actual")
    call.check()
    points = equal_points(call.weight, target, actual)
    if points is None:
        raise ScoringError(Problem("target", _l("An “=” target cannot be 0.")))
    w = call.weight
    return MethodResult(points, f"{w} × max(0, 1 − |{actual} − {target}| / |{target}|)")


def range_points(w: Decimal, low: Decimal, high: Decimal, actual: Decimal) -> Decimal | None:
    """Full points within [low, high]; below, weight × actual / low (as ≥ low); above,
    weight × high / actual (as ≤ high). None outside the domain (negative numbers,
    low not below high)."""
    if low < 0 or high <= low or actual < 0:
        return None
    if actual < low:
        return proportional_points(w, low, actual)
    return reverse_points(w, high, actual)


def in_range(call: MethodCall) -> MethodResult:
    """A range target ``low-high``: see ``range_points``."""
    low = call.number("low", minimum=0)
    high = call.number("high", minimum=0)
    actual = call.number("actual", minimum=0)
    call.check()
    points = range_points(call.weight, low, high, actual)
    if points is None:
        raise ScoringError(Problem("high", _l(
            "The upper end of a range must be above its lower end.")))
    w = call.weight
    if actual < low:
        formula = f"{w} × {actual} / {low}"
    elif actual > high:
        formula = f"{w} × {high} / {actual}"
    else:
        formula = f"{low} ≤ {actual} ≤ {high} → {w}"
    return MethodResult(points, formula)


@kernel(budget_execution)
def _budget_execution(w: Decimal, inputs: Mapping[str, Any], rules: ScoringRules):
    budget, spent = number_or_none(inputs.get("budget")), number_or_none(inputs.get("spent"))
    points = None if budget is None or spent is None else execution_points(w, budget, spent)
    if points is None:
        return None
    return points, f"{w} × min({spent} / {budget}, 1)"


@kernel(equal)
def _equal(w: Decimal, inputs: Mapping[str, Any], rules: ScoringRules):
    target, actual = number_or_none(inputs.get("target")), number_or_none(inputs.get("actual"))
    points = None if target is None or actual is None else equal_points(w, target, actual)
    if points is None:
        return None
    return points, f"{w} × max(0, 1 − |{actual} − {target}| / |{target}|)"


METHODS = {"budget_execution": budget_execution, "equal": equal, "range": in_range}
#: how the score screen names this plugin's methods (the core names its own)
METHOD_LABELS = {"budget_execution": _l("Budget execution rate"), "equal": _l("Equal to target"),
                 "range": _l("Within a range")}


def method_label(name: str) -> Any:
    return METHOD_LABELS.get(name) or core_method_label(name)


# --- reading the data -----------------------------------------------------------------

_PLAIN: dict[Decimal, Decimal] = {}
_PLAIN_TEXT: dict[Decimal, str] = {}


def plain_text(value: Decimal) -> str:
    """``str(plain(value))``, remembered per value (weights repeat across a district)."""
    found = _PLAIN_TEXT.get(value)
    if found is None:
        if len(_PLAIN_TEXT) > 10_000:
            _PLAIN_TEXT.clear()
        found = _PLAIN_TEXT[value] = str(plain(value))
    return found


def plain(value: Decimal) -> Decimal:
    """Without trailing zeros (30.00 → 30, 0.9000 → 0.9), so formulas read naturally."""
    found = _PLAIN.get(value)  # equal values (30 and 30.00) have the same plain form
    if found is None:
        normal = value.normalize()
        found = normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal
        if len(_PLAIN) > 10_000:
            _PLAIN.clear()
        _PLAIN[value] = found
    return found


Label = Callable[[], Any]


def _number(value: Any, field: str, label: Label, problems: list[Problem], *,
            unit: str | None = None, minimum: Decimal | None = None,
            above: Decimal | None = None) -> Decimal | None:
    """An exact decimal from a string or an int; floats, text and wrong units are refused.

    ``label()`` names the value in a message; it is made only when there is one.
    """
    kind = type(value)
    if kind is str and value.strip():
        text = value.strip().replace(",", "")
        if unit and text.endswith(unit):
            text = text[:-len(unit)].strip()
    elif isinstance(value, int | Decimal) and kind is not bool:
        text = str(value)
    elif value is None or kind is str:
        problems.append(Problem(field, _l("%(label)s is missing.", label=label())))
        return None
    else:
        problems.append(Problem(field, _l(
            "%(label)s must be a decimal number sent as a string (not %(type)s).",
            label=label(), type=kind.__name__)))
        return None
    try:
        number = Decimal(text)
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        if unit:
            problems.append(Problem(field, _l(
                "%(label)s must be a number in %(unit)s, not “%(value)s”.",
                label=label(), unit=unit, value=value)))
        else:
            problems.append(Problem(field, _l("%(label)s must be a number, not “%(value)s”.",
                                              label=label(), value=value)))
        return None
    if minimum is not None and number < minimum:
        problems.append(Problem(field, _l("%(label)s cannot be below %(min)s.",
                                          label=label(), min=minimum)))
    if above is not None and number <= above:
        problems.append(Problem(field, _l("%(label)s must be above %(min)s.",
                                          label=label(), min=above)))
    return number


#: what an indicator's fixed fields parse to: (level1, level2, name), comparator, weight,
#: method, unit
Static = tuple[tuple[str, str, str], str, Decimal, str, "str | None"]


def _static(raw: Mapping[str, Any], where: str, problems: list[Problem]) -> Static:
    """The fixed fields of one indicator (everything but its actual value); problems collected.

    With a problem, the comparator or weight may be None."""
    names = []
    for key in ("level1", "level2", "name"):
        text = raw.get(key)
        if type(text) is not str or not text.strip():
            problems.append(Problem(f"{where}.{key}", _l("%(field)s is missing.", field=key)))
            text = str(text or "")
        names.append(text.strip())
    label = names[2] or where
    comparator = COMPARATORS.get(str(raw.get("comparator") or "").strip())
    if comparator is None:
        problems.append(Problem(f"{where}.comparator", _l(
            "The comparator of “%(name)s” must be >=, <=, =, range or qualitative.",
            name=label)))
    weight = _number(raw.get("weight"), f"{where}.weight",
                     lambda: _l("The weight of “%(name)s”", name=label), problems,
                     above=ZERO)
    method = str(raw.get("method") or "").strip() or DEFAULT_METHODS.get(comparator or "", "")
    if comparator == "range" and method in SINGLE_TARGET_METHODS:
        method = "range"  # the targets plugin names proportional for a range by default
    unit = str(raw.get("unit") or "").strip() or None
    return (names[0], names[1], names[2]), comparator, weight, method, unit  # type: ignore


def _inputs(raw: Mapping[str, Any], where: str, static: Static,
            levels: Mapping[str, QualitativeLevel], problems: list[Problem]) -> dict[str, Any]:
    """The method's inputs from the actual value (or grade and ratio); problems collected."""
    label = static[0][2] or where
    if static[1] is None:
        return {}
    if static[1] == "qualitative":
        grade = raw.get("grade")
        if grade not in levels:
            problems.append(Problem(f"{where}.grade", _l(
                "The grade of “%(name)s” must be one of %(options)s.", name=label,
                options=", ".join(levels))))
            return {}
        level = levels[grade]
        inputs = {"level": grade, "percent": level.default}
        if raw.get("ratio") is not None:
            ratio = _number(raw.get("ratio"), f"{where}.ratio",
                            lambda: _l("The ratio of “%(name)s”", name=label), problems)
            if ratio is not None and not level.lower <= ratio * HUNDRED <= level.upper:
                problems.append(Problem(f"{where}.ratio", _l(
                    "The ratio of “%(name)s” must lie within %(low)s–%(high)s for "
                    "the grade %(grade)s.", name=label, low=level.lower / HUNDRED,
                    high=level.upper / HUNDRED, grade=grade)))
            elif ratio is not None:
                inputs["percent"] = plain(ratio * HUNDRED)
        return inputs
    unit = static[4]
    if static[1] == "range":
        return _range_inputs(raw, where, label, unit, problems)
    target = _number(raw.get("target"), f"{where}.target",
                     lambda: _l("The target of “%(name)s”", name=label), problems, unit=unit)
    actual = _number(raw.get("actual"), f"{where}.actual",
                     lambda: _l("The actual value of “%(name)s”", name=label), problems,
                     unit=unit)
    return {"target": target, "actual": actual}


def _range_inputs(raw: Mapping[str, Any], where: str, label: str, unit: str | None,
                  problems: list[Problem]) -> dict[str, Any]:
    """``low``, ``high`` and ``actual`` of a range target written “low-high”."""
    text = str(raw.get("target") or "").strip()
    if unit and text.endswith(unit):
        text = text[:-len(unit)].strip()
    match = RANGE_TEXT.match(text)
    bounds = [None, None]
    if match is None:
        problems.append(Problem(f"{where}.target", _l(
            "The target of “%(name)s” must be a range “low-high”, e.g. 90-100.", name=label)))
    else:
        bounds = [_number(value, f"{where}.target", lambda: _l(
            "The target of “%(name)s”", name=label), problems) for value in match.groups()]
    actual = _number(raw.get("actual"), f"{where}.actual",
                     lambda: _l("The actual value of “%(name)s”", name=label), problems,
                     unit=unit)
    return {"low": bounds[0], "high": bounds[1], "actual": actual}


def _target_text(raw: Mapping[str, Any]) -> str:
    return "" if raw.get("target") is None else str(raw.get("target"))


def score_sheet(data: Mapping[str, Any], rules: ScoringRules | None = None,
                resolver: Resolver | None = None) -> SheetScore:
    """Score a sheet given as plain data; raises ``SheetError`` naming every bad field.

    The fields are checked here (every problem named by its input field); the
    tree is scored by the core engine (``core.services.scoring.score``), which checks the
    sheet's shape (names, weights, methods) and gives the trace.
    """
    problems: list[Problem] = []
    if rules is None:
        try:
            rules = find_rules(data.get("rule_version"))
        except ScoringError as exc:
            raise SheetError(exc.problems) from None
    shares_out = rules.zero_budget == "share"
    budget = _number(data.get("budget"), "budget", lambda: _l("The budget"), problems,
                     **({"minimum": ZERO} if shares_out else {"above": ZERO}))
    spent = _number(data.get("spent"), "spent", lambda: _l("The amount spent"), problems,
                    minimum=ZERO)
    exec_weight = execution_weight(rules)
    if data.get("execution_weight") is not None and not (shares_out and budget == ZERO):
        exec_weight = _number(data.get("execution_weight"), "execution_weight",
                              lambda: _l("The execution weight"), problems, above=ZERO)
    raw_lines = data.get("indicators")
    if not isinstance(raw_lines, list) or not raw_lines:
        problems.append(Problem("indicators", _l("The sheet has no indicators.")))
        raw_lines = []
    levels = rules.levels(GRADE_SCALE) or {lv.code: lv for lv in rules.scale(GRADE_SCALE)}
    groups: dict[str, dict[str, list[tuple[Static, dict[str, Any]]]]] = {}
    paths: dict[str, int] = {}
    leaves = []
    for n, raw in enumerate(raw_lines):
        where = f"indicators.{n}"
        if not isinstance(raw, Mapping):
            problems.append(Problem(where, _l("Each indicator must be an object.")))
            continue
        before = len(problems)
        static = _static(raw, where, problems)
        inputs = _inputs(raw, where, static, levels, problems)
        if len(problems) > before:
            continue
        (l1, l2, name), comparator = static[0], static[1]
        path = "/".join(static[0])
        if path in paths:
            problems.append(Problem(f"{where}.name", _l(
                "The indicator “%(name)s” appears twice.", name=name)))
            continue
        paths[path] = n
        groups.setdefault(l1, {}).setdefault(l2, []).append((static, inputs))
        leaves.append((path, name, comparator, _target_text(raw),
                       str(raw.get("grade") if comparator == "qualitative"
                           else raw.get("actual")), static[3]))
    if problems:
        raise SheetError(problems)
    if shares_out and budget == ZERO:  # execution not applicable: its weight goes to the rest
        exec_weight = None
        groups = _shared_out(groups, rules.total_weight)
    tree = _tree(exec_weight, groups, {"budget": budget, "spent": spent})  # type: ignore[arg-type]
    try:
        trace = score(tree, rules, resolver)
    except ScoringError as exc:
        raise SheetError([_field_problem(p, paths) for p in exc.problems]) from None
    return SheetScore(trace, tuple(leaves))


def _shared_out(groups: Mapping[str, Mapping[str, list]],
                total: Decimal) -> dict[str, dict[str, list]]:
    """The indicators with their weights scaled to ``total`` (largest remainder, 0.01)."""
    flat = [(l1, l2, static, inputs) for l1, l2s in groups.items()
            for l2, kids in l2s.items() for static, inputs in kids]
    weights = apportion(total, [static[2] for _l1, _l2, static, _i in flat])
    out: dict[str, dict[str, list]] = {}
    for (l1, l2, static, inputs), weight in zip(flat, weights, strict=True):
        out.setdefault(l1, {}).setdefault(l2, []).append(
            ((static[0], static[1], weight, *static[3:]), inputs))
    return out


def _tree(exec_weight: Decimal | None, groups: Mapping[str, Mapping[str, list]],
          execution: Mapping[str, Any]) -> Indicator:
    """The engine's tree: budget execution (unless not applicable), then level 1 → level 2
    → indicators."""
    head = [] if exec_weight is None else [
        Indicator(EXECUTION, exec_weight, "budget_execution", dict(execution))]
    return Indicator(ROOT, children=[
        *head,
        *(Indicator(l1, children=[
            Indicator(l2, children=[
                Indicator(static[0][2], static[2], static[3], inputs)
                for static, inputs in kids])
            for l2, kids in l2s.items()])
          for l1, l2s in groups.items())])


def _field_problem(problem: Problem, paths: Mapping[str, int]) -> Problem:
    """An engine problem (path 产出/数量/完成率/target) named by the input field."""
    path = problem.path
    if path in ("", ROOT) or path.startswith("weight"):
        return Problem("indicators.weight", problem.message)
    if path.startswith(EXECUTION):
        rest = path[len(EXECUTION):].lstrip("/")
        return Problem(rest or "execution_weight", problem.message)
    for leaf_path, n in paths.items():
        if path == leaf_path or path.startswith(leaf_path + "/"):
            rest = path[len(leaf_path):].lstrip("/")
            return Problem(f"indicators.{n}" + (f".{rest}" if rest else ""), problem.message)
    return Problem("indicators", problem.message)
