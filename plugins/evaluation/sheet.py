"""Scoring a self-evaluation sheet (单位自评表): the one code path of the API, pages and CLI.

``score_sheet(data)`` takes the sheet as plain data — the JSON body of
``POST /api/v1/scoring/self-evaluation`` — and scores it with the core engine
(``core.scoring.score``). A saved ``SelfEvaluation`` is turned into exactly
this data (``service.sheet_data``) and scored by the same function.

The tree: budget execution (预算执行率) as the first leaf, then one group per
level-1 and level-2 category with the indicators as leaves. Default methods
by comparator (an indicator may name another method):

* execution: weight × min(spent / budget, 1)                (``budget_execution``)
* ``>=``: weight × min(actual / target, 1)                  (``proportional``)
* ``<=``: full points when actual ≤ target, else weight × target / actual (``reverse``)
* ``=``: weight × max(0, 1 − |actual − target| / |target|)  (``equal``)
* qualitative: a grade (achieved / partly / not_achieved) and a ``ratio`` of the
  weight within the grade's band (``qualitative``)

Each leaf is rounded to 0.01 half up by the engine, the total is the sum of the
leaves, and the weights (execution + indicators) must add up to the rule
version's total (100).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from core.scoring import (
    HUNDRED,
    Indicator,
    MethodCall,
    MethodResult,
    Problem,
    Resolver,
    ScoreTrace,
    ScoringError,
    ScoringRules,
    grade_label,
    score,
)
from core.scoring import (
    method_label as core_method_label,
)
from plugins.evaluation.rules import execution_weight, find_rules

ROOT, EXECUTION = "单位自评", "预算执行率"
#: accepted spellings → the comparator code (the targets plugin stores ge/le/eq/qualitative)
COMPARATORS = {">=": "ge", "≥": "ge", "ge": "ge", "<=": "le", "≤": "le", "le": "le",
               "=": "eq", "eq": "eq", "qualitative": "qualitative", "定性": "qualitative"}
COMPARATOR_SIGNS = {"ge": "≥", "le": "≤", "eq": "=", "qualitative": "定性"}
DEFAULT_METHODS = {"ge": "proportional", "le": "reverse", "eq": "equal",
                   "qualitative": "qualitative"}
GRADE_SCALE = "achievement"


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
    trace: ScoreTrace
    execution_points: Decimal
    execution_formula: str
    lines: tuple[LineScore, ...]

    @property
    def score(self) -> Decimal:
        return self.trace.total

    @property
    def grade(self) -> str:
        return self.trace.grade

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": str(self.score), "grade": self.grade,
            "grade_label": str(grade_label(self.grade)),
            "rule_version": self.trace.rules.code,
            "execution_points": str(self.execution_points),
            "execution_formula": self.execution_formula,
            "indicators": [{"level1": ln.level1, "level2": ln.level2, "name": ln.name,
                            "weight": str(ln.weight), "method": ln.method,
                            "points": str(ln.points), "formula": ln.formula}
                           for ln in self.lines],
        }


# --- the two methods the core does not have -------------------------------------------

def budget_execution(call: MethodCall) -> MethodResult:
    """Execution points: weight × min(spent / budget, 1)."""
    budget = call.number("budget", above=0)
    spent = call.number("spent", minimum=0)
    call.check()
    w = call.weight
    return MethodResult(w * min(spent / budget, Decimal(1)),
                        f"{w} × min({spent} / {budget}, 1)")


def equal(call: MethodCall) -> MethodResult:
    """An ``=`` target: weight × max(0, 1 − |actual − target| / |target|)."""
    target = call.number("target")
    actual = call.number("actual")
    call.check()
    if target == 0:
        raise ScoringError(Problem("target", _l("An “=” target cannot be 0.")))
    w = call.weight
    share = max(Decimal(0), 1 - abs(actual - target) / abs(target))
    return MethodResult(w * share, f"{w} × max(0, 1 − |{actual} − {target}| / |{target}|)")


METHODS = {"budget_execution": budget_execution, "equal": equal}
#: how the score screen names this plugin's methods (the core names its own)
METHOD_LABELS = {"budget_execution": _l("Budget execution rate"), "equal": _l("Equal to target")}


def method_label(name: str) -> Any:
    return METHOD_LABELS.get(name) or core_method_label(name)


# --- reading the data -----------------------------------------------------------------

def plain(value: Decimal) -> Decimal:
    """Without trailing zeros (30.00 → 30, 0.9000 → 0.9), so formulas read naturally."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def _number(value: Any, field: str, label: Any, problems: list[Problem], *,
            unit: str | None = None, minimum: Decimal | None = None,
            above: Decimal | None = None) -> Decimal | None:
    """An exact decimal from a string or an int; floats, text and wrong units are refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        problems.append(Problem(field, _l("%(label)s is missing.", label=label)))
        return None
    if isinstance(value, float) or isinstance(value, bool) or \
            not isinstance(value, str | int | Decimal):
        problems.append(Problem(field, _l(
            "%(label)s must be a decimal number sent as a string (not %(type)s).",
            label=label, type=type(value).__name__)))
        return None
    text = str(value).strip().replace(",", "")
    if unit and text.endswith(unit):
        text = text[:-len(unit)].strip()
    try:
        number = Decimal(text)
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        if unit:
            problems.append(Problem(field, _l(
                "%(label)s must be a number in %(unit)s, not “%(value)s”.",
                label=label, unit=unit, value=value)))
        else:
            problems.append(Problem(field, _l("%(label)s must be a number, not “%(value)s”.",
                                              label=label, value=value)))
        return None
    if minimum is not None and number < minimum:
        problems.append(Problem(field, _l("%(label)s cannot be below %(min)s.",
                                          label=label, min=minimum)))
    if above is not None and number <= above:
        problems.append(Problem(field, _l("%(label)s must be above %(min)s.",
                                          label=label, min=above)))
    return number


def _leaf(raw: Mapping[str, Any], n: int, rules: ScoringRules,
          problems: list[Problem]) -> tuple[Indicator, str, str] | None:
    """One indicator as an engine leaf, its comparator and path; problems are collected."""
    where = f"indicators.{n}"
    if not isinstance(raw, Mapping):
        problems.append(Problem(where, _l("Each indicator must be an object.")))
        return None
    before = len(problems)
    names = {}
    for key in ("level1", "level2", "name"):
        text = raw.get(key)
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(f"{where}.{key}", _l("%(field)s is missing.", field=key)))
        names[key] = str(text or "").strip()
    label = names["name"] or where
    comparator = COMPARATORS.get(str(raw.get("comparator") or "").strip())
    if comparator is None:
        problems.append(Problem(f"{where}.comparator", _l(
            "The comparator of “%(name)s” must be >=, <=, = or qualitative.", name=label)))
    weight = _number(raw.get("weight"), f"{where}.weight",
                     _l("The weight of “%(name)s”", name=label), problems, above=Decimal(0))
    method = str(raw.get("method") or "").strip() or DEFAULT_METHODS.get(comparator or "", "")
    unit = str(raw.get("unit") or "").strip() or None
    inputs: dict[str, Any] = {}
    if comparator == "qualitative":
        levels = {lv.code: lv for lv in rules.scale(GRADE_SCALE)}
        grade = raw.get("grade")
        if grade not in levels:
            problems.append(Problem(f"{where}.grade", _l(
                "The grade of “%(name)s” must be one of %(options)s.", name=label,
                options=", ".join(levels))))
        else:
            level = levels[grade]
            inputs = {"level": grade, "percent": level.default}
            if raw.get("ratio") is not None:
                ratio = _number(raw.get("ratio"), f"{where}.ratio",
                                _l("The ratio of “%(name)s”", name=label), problems)
                if ratio is not None and not level.lower <= ratio * HUNDRED <= level.upper:
                    problems.append(Problem(f"{where}.ratio", _l(
                        "The ratio of “%(name)s” must lie within %(low)s–%(high)s for "
                        "the grade %(grade)s.", name=label, low=level.lower / HUNDRED,
                        high=level.upper / HUNDRED, grade=grade)))
                elif ratio is not None:
                    inputs["percent"] = plain(ratio * HUNDRED)
    elif comparator is not None:
        target = _number(raw.get("target"), f"{where}.target",
                         _l("The target of “%(name)s”", name=label), problems, unit=unit)
        actual = _number(raw.get("actual"), f"{where}.actual",
                         _l("The actual value of “%(name)s”", name=label), problems, unit=unit)
        inputs = {"target": target, "actual": actual}
    if len(problems) > before:
        return None
    path = "/".join((names["level1"], names["level2"], names["name"]))
    return (Indicator(names["name"], weight, method, inputs), comparator or "", path)


def _target_text(raw: Mapping[str, Any]) -> str:
    return "" if raw.get("target") is None else str(raw.get("target"))


def score_sheet(data: Mapping[str, Any], rules: ScoringRules | None = None,
                resolver: Resolver | None = None) -> SheetScore:
    """Score a sheet given as plain data; raises ``SheetError`` naming every bad field."""
    problems: list[Problem] = []
    if rules is None:
        try:
            rules = find_rules(data.get("rule_version"))
        except ScoringError as exc:
            raise SheetError(exc.problems) from None
    budget = _number(data.get("budget"), "budget", _l("The budget"), problems,
                     above=Decimal(0))
    spent = _number(data.get("spent"), "spent", _l("The amount spent"), problems,
                    minimum=Decimal(0))
    exec_weight = execution_weight(rules)
    if data.get("execution_weight") is not None:
        exec_weight = _number(data.get("execution_weight"), "execution_weight",
                              _l("The execution weight"), problems, above=Decimal(0))
    raw_lines = data.get("indicators")
    if not isinstance(raw_lines, list) or not raw_lines:
        problems.append(Problem("indicators", _l("The sheet has no indicators.")))
        raw_lines = []
    groups: dict[str, dict[str, list[Indicator]]] = {}
    paths: dict[str, int] = {}
    leaves = []
    for n, raw in enumerate(raw_lines):
        found = _leaf(raw, n, rules, problems)
        if found is None:
            continue
        leaf, comparator, path = found
        if path in paths:
            problems.append(Problem(f"indicators.{n}.name", _l(
                "The indicator “%(name)s” appears twice.", name=leaf.name)))
            continue
        paths[path] = n
        l1, l2, _name = path.split("/", 2)
        groups.setdefault(l1, {}).setdefault(l2, []).append(leaf)
        leaves.append((n, raw, comparator, path, leaf))
    if problems:
        raise SheetError(problems)
    tree = Indicator(ROOT, children=[
        Indicator(EXECUTION, exec_weight, "budget_execution", {"budget": budget, "spent": spent}),
        *(Indicator(l1, children=[Indicator(l2, children=kids) for l2, kids in l2s.items()])
          for l1, l2s in groups.items())])
    try:
        trace = score(tree, rules, resolver)
    except ScoringError as exc:
        raise SheetError([_field_problem(p, paths) for p in exc.problems]) from None
    nodes = dict(trace.lines())
    execution = nodes[EXECUTION]
    return SheetScore(trace, execution.points, execution.formula, tuple(
        LineScore(level1=path.split("/")[0], level2=path.split("/")[1], name=leaf.name,
                  comparator=comparator, target=_target_text(raw),
                  actual=str(raw.get("grade") if comparator == "qualitative"
                             else raw.get("actual")),
                  weight=nodes[path].weight, method=str(leaf.method),
                  points=nodes[path].points, formula=nodes[path].formula)
        for n, raw, comparator, path, leaf in leaves))


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
