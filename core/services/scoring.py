"""The scoring engine: weighted indicator trees, scoring methods, grade bands, traces.

Everything here is pure: no database, no request. A score is computed from

* an :class:`Indicator` tree (a weighted indicator sheet: 产出/数量/完成率 …; a
  parent's weight is the sum of its children's, the root's is the rule
  version's ``total_weight``), whose leaves name a scoring *method* and carry its
  ``inputs`` and ``params``;
* a :class:`ScoringRules` version (grade bands, qualitative scales, rounding,
  default weights), which is rule data with a code and the year it applies
  from, never constants in code;

and returns a :class:`ScoreTrace`: inputs, methods, rule version and every
result, JSON-serialisable (``to_dict`` / ``from_dict``), that can be shown to a
user and ``recompute``-d to the same figure.

Numbers are ``Decimal`` throughout; floats are refused. Arithmetic runs in a
fixed context (:data:`CONTEXT`) and each leaf's points are rounded exactly once,
by :meth:`ScoringRules.quantize` (0.01, ROUND_HALF_UP by default); parents add
the rounded points of their children, so the figures shown always add up.

Built-in methods live in :data:`METHODS`; a plugin adds one through the
``jixiao_score_method`` hook (see docs/scoring.md and :func:`hook_resolver`).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from flask_babel import lazy_gettext as _l

#: The arithmetic context of every computation (enough digits that no
#: intermediate result is rounded in practice; fixed, so recomputation is exact).
CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero,
                                 decimal.Overflow])
TRACE_FORMAT = 1
HUNDRED = Decimal(100)
ROUNDING_MODES = frozenset({
    "ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_HALF_DOWN", "ROUND_UP", "ROUND_DOWN",
    "ROUND_CEILING", "ROUND_FLOOR", "ROUND_05UP"})
#: ``ScoringRules.zero_budget``: refuse a budget of 0, or share the execution weight out
ZERO_BUDGET_CHOICES = frozenset({"refuse", "share"})


# --- Errors -------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One thing wrong with a sheet, a rule version or an input, and where."""

    path: str
    message: Any  # a lazy (translatable) string

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else str(self.message)

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": str(self.message)}


class ScoringError(ValueError):
    """Bad rules, a bad indicator sheet or bad inputs; ``problems`` lists them all."""

    def __init__(self, problems: Iterable[Problem] | Problem | str) -> None:
        if isinstance(problems, str | Problem):
            problems = [problems if isinstance(problems, Problem) else Problem("", problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.problems)


def _join(head: str, tail: str) -> str:
    return f"{head}/{tail}" if head and tail else head or tail


# --- Values -------------------------------------------------------------------

def to_decimal(value: Any, name: str = "value") -> Decimal:
    """An exact, finite Decimal from a Decimal, int or numeric string; floats are refused."""
    kind = type(value)
    if kind is Decimal and value.is_finite():
        return value
    if kind is str:
        try:
            dec = Decimal(value)  # surrounding blanks are allowed by Decimal itself
        except (InvalidOperation, ValueError):
            raise ScoringError(Problem("", _l("“%(name)s” is not a number.",
                                              name=name))) from None
        if dec.is_finite():
            return dec
        raise ScoringError(Problem("", _l("“%(name)s” is not a number.", name=name)))
    if isinstance(value, float):
        raise ScoringError(Problem("", _l(
            "“%(name)s” must be an exact decimal, not a floating point number.", name=name)))
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ScoringError(Problem("", _l("“%(name)s” is not a number.", name=name)))
    try:
        dec = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise ScoringError(Problem("", _l("“%(name)s” is not a number.", name=name))) from None
    if not dec.is_finite():
        raise ScoringError(Problem("", _l("“%(name)s” is not a number.", name=name)))
    return dec


def _fmt(value: Decimal) -> str:
    """A Decimal as plain digits (no exponent), for traces and formulas."""
    return format(value, "f")


_PLAIN_JSON = (str, int, type(None))


def to_json_value(value: Any, path: str = "") -> Any:
    """Inputs and params as JSON: Decimals become strings; floats and other types are refused."""
    if type(value) is dict:  # the usual flat dict of strings and Decimals: no paths needed
        out = {}
        for k, v in value.items():
            kind = type(v)
            if kind is Decimal:
                out[str(k)] = _fmt(v)
            elif kind in _PLAIN_JSON or kind is bool:
                out[str(k)] = v
            else:
                break
        else:
            return out
    if isinstance(value, float):
        raise ScoringError(Problem(path, _l(
            "“%(name)s” must be an exact decimal, not a floating point number.",
            name=path.rsplit("/", 1)[-1])))
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return _fmt(value)
    if isinstance(value, list | tuple):
        return [to_json_value(v, f"{path}/{i}") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v, f"{path}/{k}") for k, v in value.items()}
    raise ScoringError(Problem(path, _l(
        "“%(name)s” has an unsupported type %(type)s.", name=path.rsplit("/", 1)[-1],
        type=type(value).__name__)))


# --- Rule data ----------------------------------------------------------------

@dataclass(frozen=True)
class Band:
    """A grade band: totals in [lower, upper) get ``code``; the top band includes its upper."""

    code: str
    lower: Decimal
    upper: Decimal


@dataclass(frozen=True)
class QualitativeLevel:
    """A qualitative level: the share of the points (percent) lies in [lower, upper]."""

    code: str
    lower: Decimal
    upper: Decimal
    default: Decimal  # used when the assessor gives no percentage


#: Display names of the default grade codes (rule data may use other codes).
GRADE_LABELS = {
    "excellent": _l("Excellent"),  # 优
    "good": _l("Good"),  # 良
    "fair": _l("Fair"),  # 中
    "poor": _l("Poor"),  # 差
}


#: the grade letters of ``core.contracts.EvaluationResult`` (A 优, B 良, C 中, D 差)
LETTER_GRADES = {"A": "excellent", "B": "good", "C": "fair", "D": "poor"}


def grade_label(code: str) -> Any:
    """优/良/中/差 of a grade code or letter (another code as it is)."""
    return GRADE_LABELS.get(LETTER_GRADES.get(code, code), code)


#: Display names of the core scoring methods (a plugin names its own methods itself).
METHOD_LABELS = {
    "proportional": _l("Proportional to target"), "reverse": _l("Lower is better"),
    "rate": _l("Rate"), "deduction": _l("Deduction"), "qualitative": _l("Graded qualitative"),
    "expert": _l("Expert score"),
}


def method_label(name: str) -> Any:
    return METHOD_LABELS.get(name, name)


def _d(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else to_decimal(value)


@dataclass(frozen=True)
class ScoringRules:
    """One version of the scoring rules; validated on creation (``ScoringError``)."""

    code: str
    valid_from: int  # the first fiscal year it applies to
    bands: tuple[Band, ...]
    qualitative_scales: Mapping[str, tuple[QualitativeLevel, ...]]
    total_weight: Decimal = HUNDRED
    places: int = 2
    rounding: str = "ROUND_HALF_UP"
    #: Default level-1 weights of a self-evaluation sheet (adjustable per item).
    default_weights: Mapping[str, Decimal] = field(default_factory=dict)
    #: What a self-evaluation of an item with a budget of 0 does with budget execution:
    #: ``refuse`` (a budget of 0 cannot be scored) or ``share`` (execution is not
    #: applicable and its weight is shared out over the indicators by their weights).
    zero_budget: str = "refuse"

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ScoringError(problems)

    # The single place where points are rounded.
    def quantize(self, value: Decimal) -> Decimal:
        """Round points to ``places`` decimals with ``rounding`` (default 0.01, half up)."""
        return value.quantize(self._quantum, rounding=self.rounding)

    @cached_property
    def _quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.places)

    def problems(self) -> list[Problem]:
        out: list[Problem] = []
        if not self.code:
            out.append(Problem("code", _l("The rule version needs a code.")))
        if self.rounding not in ROUNDING_MODES:
            out.append(Problem("rounding", _l("Unknown rounding mode “%(mode)s”.",
                                              mode=self.rounding)))
        if not isinstance(self.places, int) or not 0 <= self.places <= 6:
            out.append(Problem("places", _l("Decimal places must be between 0 and 6.")))
        if self.total_weight <= 0:
            out.append(Problem("total_weight", _l("The total weight must be positive.")))
        out += _band_problems(self.bands, self.total_weight)
        for scale, levels in self.qualitative_scales.items():
            out += _level_problems(scale, levels)
        if self.zero_budget not in ZERO_BUDGET_CHOICES:
            out.append(Problem("zero_budget", _l(
                "“%(value)s” is not a choice for a budget of 0 (refuse or share).",
                value=self.zero_budget)))
        if self.default_weights:
            total = sum(self.default_weights.values(), Decimal(0))
            if total != self.total_weight:
                out.append(Problem("default_weights", _l(
                    "The weights add up to %(sum)s, not %(expected)s.", sum=_fmt(total),
                    expected=_fmt(self.total_weight))))
        return out

    def grade(self, total: Decimal) -> Band:
        """The band that ``total`` falls in; band boundaries are exact Decimals."""
        total = _d(total)
        for i, band in enumerate(self.bands):
            top = i == len(self.bands) - 1
            if band.lower <= total < band.upper or (top and total == band.upper):
                return band
        raise ScoringError(Problem("", _l(
            "The total %(total)s lies outside 0–%(max)s.", total=_fmt(total),
            max=_fmt(self.total_weight))))

    def levels(self, name: str) -> Mapping[str, QualitativeLevel]:
        """The levels of a scale by code (empty for an unknown scale)."""
        return self._levels.get(name, {})

    @cached_property
    def _levels(self) -> dict[str, dict[str, QualitativeLevel]]:
        return {name: {lv.code: lv for lv in levels}
                for name, levels in self.qualitative_scales.items()}

    def scale(self, name: str) -> tuple[QualitativeLevel, ...]:
        try:
            return self.qualitative_scales[name]
        except KeyError:
            raise ScoringError(Problem("", _l(
                "Unknown qualitative scale “%(scale)s”.", scale=name))) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "valid_from": self.valid_from,
            "total_weight": _fmt(self.total_weight), "places": self.places,
            "rounding": self.rounding,
            "bands": [{"code": b.code, "lower": _fmt(b.lower), "upper": _fmt(b.upper)}
                      for b in self.bands],
            "qualitative_scales": {
                name: [{"code": lv.code, "lower": _fmt(lv.lower), "upper": _fmt(lv.upper),
                        "default": _fmt(lv.default)} for lv in levels]
                for name, levels in self.qualitative_scales.items()},
            "default_weights": {k: _fmt(v) for k, v in self.default_weights.items()},
            "zero_budget": self.zero_budget,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoringRules:
        try:
            return cls(
                code=str(data["code"]), valid_from=int(data["valid_from"]),
                total_weight=_d(data.get("total_weight", HUNDRED)),
                places=int(data.get("places", 2)),
                rounding=str(data.get("rounding", "ROUND_HALF_UP")),
                bands=tuple(Band(str(b["code"]), _d(b["lower"]), _d(b["upper"]))
                            for b in data["bands"]),
                qualitative_scales={
                    str(name): tuple(QualitativeLevel(str(lv["code"]), _d(lv["lower"]),
                                                      _d(lv["upper"]), _d(lv["default"]))
                                     for lv in levels)
                    for name, levels in data.get("qualitative_scales", {}).items()},
                default_weights={str(k): _d(v)
                                 for k, v in data.get("default_weights", {}).items()},
                zero_budget=str(data.get("zero_budget", "refuse")),
            )
        except (KeyError, TypeError) as exc:
            raise ScoringError(Problem("", _l(
                "The rule version is incomplete: %(detail)s", detail=str(exc)))) from None


def _band_problems(bands: Sequence[Band], total: Decimal) -> list[Problem]:
    """Bands must cover [0, total] exactly once: no gap, no overlap."""
    out: list[Problem] = []
    if not bands:
        return [Problem("bands", _l("At least one grade band is needed."))]
    codes = [b.code for b in bands]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        out.append(Problem(f"bands/{code}", _l("The grade “%(code)s” appears twice.", code=code)))
    ordered = sorted(bands, key=lambda b: (b.lower, b.upper))
    for band in ordered:
        if band.lower >= band.upper:
            out.append(Problem(f"bands/{band.code}", _l(
                "The lower bound %(lower)s must be below the upper bound %(upper)s.",
                lower=_fmt(band.lower), upper=_fmt(band.upper))))
    if ordered[0].lower != 0:
        out.append(Problem(f"bands/{ordered[0].code}", _l(
            "The lowest band must start at 0, not %(lower)s.", lower=_fmt(ordered[0].lower))))
    if ordered[-1].upper != total:
        out.append(Problem(f"bands/{ordered[-1].code}", _l(
            "The highest band must end at %(max)s, not %(upper)s.", max=_fmt(total),
            upper=_fmt(ordered[-1].upper))))
    for low, high in zip(ordered, ordered[1:], strict=False):
        if low.upper < high.lower:
            out.append(Problem(f"bands/{low.code}", _l(
                "Gap between the bands “%(a)s” and “%(b)s”: %(from)s–%(to)s is in no band.",
                a=low.code, b=high.code, **{"from": _fmt(low.upper), "to": _fmt(high.lower)})))
        elif low.upper > high.lower:
            out.append(Problem(f"bands/{low.code}", _l(
                "The bands “%(a)s” and “%(b)s” overlap between %(from)s and %(to)s.",
                a=low.code, b=high.code, **{"from": _fmt(high.lower), "to": _fmt(low.upper)})))
    if list(bands) != sorted(bands, key=lambda b: (b.lower, b.upper)):
        out.append(Problem("bands", _l("List the bands from the lowest to the highest.")))
    return out


def _level_problems(scale: str, levels: Sequence[QualitativeLevel]) -> list[Problem]:
    out: list[Problem] = []
    if not levels:
        out.append(Problem(f"qualitative_scales/{scale}", _l("The scale has no levels.")))
    for lv in levels:
        path = f"qualitative_scales/{scale}/{lv.code}"
        if not 0 <= lv.lower <= lv.upper <= HUNDRED:
            out.append(Problem(path, _l(
                "The range %(lower)s–%(upper)s %% must lie within 0–100 %%.",
                lower=_fmt(lv.lower), upper=_fmt(lv.upper))))
        elif not lv.lower <= lv.default <= lv.upper:
            out.append(Problem(path, _l(
                "The default %(default)s %% lies outside %(lower)s–%(upper)s %%.",
                default=_fmt(lv.default), lower=_fmt(lv.lower), upper=_fmt(lv.upper))))
    return out


def _levels(*rows: tuple[str, str, str, str]) -> tuple[QualitativeLevel, ...]:
    return tuple(QualitativeLevel(c, Decimal(lo), Decimal(hi), Decimal(df))
                 for c, lo, hi, df in rows)


#: The default rules of unit self-evaluation (财预〔2020〕10号 as commonly quoted):
#: 优 [90, 100], 良 [80, 90), 中 [60, 80), 差 [0, 60); qualitative achieved
#: 80–100 %, partly 60–80 %, not achieved 0–60 %. The defaults used when no
#: percentage is given, the A–D scale and the sharing of the execution weight of an
#: item with a budget of 0 (``zero_budget``) are product choices (unconfirmed).
SELF_EVALUATION_2020 = ScoringRules(
    code="self-evaluation-2020",
    valid_from=2020,
    bands=(Band("poor", Decimal(0), Decimal(60)), Band("fair", Decimal(60), Decimal(80)),
           Band("good", Decimal(80), Decimal(90)), Band("excellent", Decimal(90), HUNDRED)),
    qualitative_scales={
        "achievement": _levels(("achieved", "80", "100", "100"), ("partly", "60", "80", "70"),
                               ("not_achieved", "0", "60", "0")),
        "letter": _levels(("A", "90", "100", "100"), ("B", "80", "90", "85"),
                          ("C", "60", "80", "70"), ("D", "0", "60", "0")),
    },
    default_weights={"budget_execution": Decimal(10), "outputs": Decimal(50),
                     "outcomes": Decimal(30), "satisfaction": Decimal(10)},
    zero_budget="share",
)


def rules_for_year(versions: Iterable[ScoringRules], year: int) -> ScoringRules:
    """The latest version whose ``valid_from`` is not after ``year``."""
    usable = [v for v in versions if v.valid_from <= year]
    if not usable:
        raise ScoringError(Problem("", _l("No scoring rules apply to the year %(year)s.",
                                          year=year)))
    return max(usable, key=lambda v: v.valid_from)


# --- Methods ------------------------------------------------------------------

@dataclass
class MethodResult:
    """What a method returns: unrounded points in [0, weight] and a readable formula."""

    points: Decimal
    formula: str = ""


@dataclass
class MethodCall:
    """What a method gets: the leaf's weight, inputs, params and the rule version.

    ``number`` / ``numbers`` / ``choice`` read an input (or a param) and record a
    problem instead of raising, so one leaf reports all its bad inputs; call
    ``check()`` before computing.
    """

    weight: Decimal
    inputs: Mapping[str, Any]
    params: Mapping[str, Any]
    rules: ScoringRules
    problems: list[Problem] = field(default_factory=list)

    def _source(self, param: bool) -> Mapping[str, Any]:
        return self.params if param else self.inputs

    def _bad(self, name: str, message: Any) -> None:
        self.problems.append(Problem(name, message))

    def number(self, name: str, *, minimum: Decimal | int | None = None,
               above: Decimal | int | None = None, maximum: Decimal | int | None = None,
               param: bool = False, default: Any = None) -> Decimal:
        value = self._source(param).get(name, default)
        if value is None:
            self._bad(name, _l("“%(name)s” is missing.", name=name))
            return Decimal(0)
        try:
            dec = to_decimal(value, name)
        except ScoringError as exc:
            self.problems += [Problem(name, p.message) for p in exc.problems]
            return Decimal(0)
        if minimum is not None and dec < minimum:
            self._bad(name, _l("“%(name)s” must be at least %(min)s.", name=name,
                               min=_fmt(_d(minimum))))
        if above is not None and dec <= above:
            self._bad(name, _l("“%(name)s” must be greater than %(min)s.", name=name,
                               min=_fmt(_d(above))))
        if maximum is not None and dec > maximum:
            self._bad(name, _l("“%(name)s” must be at most %(max)s.", name=name,
                               max=_fmt(_d(maximum))))
        return dec

    def numbers(self, name: str, *, minimum: Decimal | int | None = None,
                maximum: Decimal | int | None = None) -> list[Decimal]:
        values = self.inputs.get(name)
        if not isinstance(values, list | tuple) or not values:
            self._bad(name, _l("“%(name)s” must be a non-empty list of numbers.", name=name))
            return []
        out = []
        for i, value in enumerate(values):
            label = f"{name}[{i + 1}]"
            sub = MethodCall(self.weight, {label: value}, {}, self.rules)
            out.append(sub.number(label, minimum=minimum, maximum=maximum))
            self.problems += sub.problems
        return out

    def choice(self, name: str, options: Sequence[str], *, param: bool = False,
               default: str | None = None) -> str:
        value = self._source(param).get(name, default)
        if value not in options:
            self._bad(name, _l("“%(name)s” must be one of %(options)s, not “%(value)s”.",
                               name=name, options=", ".join(options), value=value))
        return str(value)

    def flag(self, name: str, *, param: bool = True, default: bool = False) -> bool:
        value = self._source(param).get(name, default)
        if not isinstance(value, bool):
            self._bad(name, _l("“%(name)s” must be true or false.", name=name))
            return default
        return value

    def check(self) -> None:
        if self.problems:
            raise ScoringError(self.problems)


Method = Callable[[MethodCall], "MethodResult | Decimal"]


def proportional(call: MethodCall) -> MethodResult:
    """Higher is better: full points when actual ≥ target, else weight × actual / target."""
    target = call.number("target", above=0)
    actual = call.number("actual", minimum=0)
    call.check()
    w = call.weight
    points = proportional_points(w, target, actual)
    if actual >= target:
        return MethodResult(points, f"{_fmt(actual)} ≥ {_fmt(target)} → {_fmt(w)}")
    return MethodResult(points, f"{_fmt(w)} × {_fmt(actual)} / {_fmt(target)}")


def reverse(call: MethodCall) -> MethodResult:
    """Lower is better (≤ target): full points when actual ≤ target, else weight × target / actual."""
    target = call.number("target", minimum=0)
    actual = call.number("actual", minimum=0)
    call.check()
    w = call.weight
    points = reverse_points(w, target, actual)
    if actual <= target:
        return MethodResult(points, f"{_fmt(actual)} ≤ {_fmt(target)} → {_fmt(w)}")
    return MethodResult(points, f"{_fmt(w)} × {_fmt(target)} / {_fmt(actual)}")


def rate(call: MethodCall) -> MethodResult:
    """Weight × rate (percent, capped at 100 %), e.g. budget execution points."""
    pct = call.number("rate", minimum=0)
    call.check()
    capped = min(pct, HUNDRED)
    return MethodResult(call.weight * capped / HUNDRED,
                        f"{_fmt(call.weight)} × min({_fmt(pct)}, 100) %")


def deduction(call: MethodCall) -> MethodResult:
    """Weight minus ``per_defect`` points per defect, never below 0."""
    per = call.number("per_defect", param=True, above=0)
    defects = call.number("defects", minimum=0)
    call.check()
    if defects != defects.to_integral_value():
        raise ScoringError(Problem("defects", _l("“%(name)s” must be a whole number.",
                                                 name="defects")))
    points = max(call.weight - per * defects, Decimal(0))
    return MethodResult(points, f"max({_fmt(call.weight)} − {_fmt(per)} × {_fmt(defects)}, 0)")


def qualitative(call: MethodCall) -> MethodResult:
    """A graded level (达成/部分达成/未达成, A–D…) gives a share of the weight within its range."""
    scale_name = str(call.params.get("scale", "achievement"))
    try:
        levels = call.rules.scale(scale_name)
    except ScoringError as exc:
        raise ScoringError([Problem("scale", p.message) for p in exc.problems]) from None
    by_code = {lv.code: lv for lv in levels}
    code = call.choice("level", list(by_code))
    call.check()
    level = by_code[code]
    pct = level.default
    if call.inputs.get("percent") is not None:
        pct = call.number("percent", minimum=level.lower, maximum=level.upper)
        call.check()
    return MethodResult(call.weight * pct / HUNDRED,
                        f"{code}: {_fmt(call.weight)} × {_fmt(pct)} %")


def expert(call: MethodCall) -> MethodResult:
    """The mean of expert scores (each 0–weight), optionally without the highest and lowest."""
    scores = call.numbers("scores", minimum=0, maximum=call.weight)
    drop = call.flag("drop_extremes")
    call.check()
    used = sorted(scores)
    if drop:
        if len(used) < 3:
            raise ScoringError(Problem("scores", _l(
                "Dropping the highest and lowest score needs at least 3 scores.")))
        used = used[1:-1]
    mean = sum(used, Decimal(0)) / len(used)
    shown = " + ".join(_fmt(s) for s in used)
    return MethodResult(mean, f"({shown}) / {len(used)}")


# --- Kernels: the usual case of a method without MethodCall --------------------------
#
# A method may carry a ``kernel(weight, inputs, rules)``: the same formula for
# the usual case only — inputs given as the JSON strings the method would read,
# all valid — returning (unrounded points, formula), or None for anything else,
# which the method itself then handles (and reports). The engine calls the
# kernel first when the leaf has no params. A kernel must give exactly what its
# method gives (tests compare both on random inputs; a stored trace recomputes
# through the methods alone — ``score(..., kernels=False)`` — so ``reproduces()``
# checks the kernel's figure for every stored score).

Kernel = Callable[[Decimal, Mapping[str, Any], "ScoringRules"], "tuple[Decimal, str] | None"]


def number_or_none(value: Any) -> Decimal | None:
    """A finite Decimal from an input string, else None (the method then reports why)."""
    if type(value) is not str:
        return None
    try:
        dec = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return dec if dec.is_finite() else None


def kernel(of: Callable) -> Callable[[Kernel], Kernel]:
    """Attach ``fn`` as the kernel of the method ``of``."""
    def attach(fn: Kernel) -> Kernel:
        of.kernel = fn  # type: ignore[attr-defined]
        return fn
    return attach


def proportional_points(w: Decimal, target: Decimal, actual: Decimal) -> Decimal | None:
    """``proportional``'s figure (unrounded) for finite numbers; None outside its domain."""
    if target <= 0 or actual < 0:
        return None
    return w if actual >= target else w * actual / target


def reverse_points(w: Decimal, target: Decimal, actual: Decimal) -> Decimal | None:
    """``reverse``'s figure (unrounded) for finite numbers; None outside its domain."""
    if target < 0 or actual < 0:
        return None
    return w if actual <= target else w * target / actual


@kernel(proportional)
def _proportional(w: Decimal, inputs: Mapping[str, Any], rules: ScoringRules):
    target, actual = number_or_none(inputs.get("target")), number_or_none(inputs.get("actual"))
    if target is None or actual is None:
        return None
    points = proportional_points(w, target, actual)
    if points is None:
        return None
    if actual >= target:
        return points, f"{_fmt(actual)} ≥ {_fmt(target)} → {_fmt(w)}"
    return points, f"{_fmt(w)} × {_fmt(actual)} / {_fmt(target)}"


@kernel(reverse)
def _reverse(w: Decimal, inputs: Mapping[str, Any], rules: ScoringRules):
    target, actual = number_or_none(inputs.get("target")), number_or_none(inputs.get("actual"))
    if target is None or actual is None:
        return None
    points = reverse_points(w, target, actual)
    if points is None:
        return None
    if actual <= target:
        return points, f"{_fmt(actual)} ≤ {_fmt(target)} → {_fmt(w)}"
    return points, f"{_fmt(w)} × {_fmt(target)} / {_fmt(actual)}"


@kernel(qualitative)
def _qualitative(w: Decimal, inputs: Mapping[str, Any], rules: ScoringRules):
    code = inputs.get("level")
    level = rules.levels("achievement").get(code) if type(code) is str else None
    if level is None:
        return None
    pct = level.default
    if inputs.get("percent") is not None:
        pct = number_or_none(inputs.get("percent"))  # type: ignore[assignment]
        if pct is None or not level.lower <= pct <= level.upper:
            return None
    return w * pct / HUNDRED, f"{level.code}: {_fmt(w)} × {_fmt(pct)} %"


#: Built-in methods by name. Plugins add others through ``jixiao_score_method``.
METHODS: dict[str, Method] = {
    "proportional": proportional,
    "reverse": reverse,
    "rate": rate,
    "deduction": deduction,
    "qualitative": qualitative,
    "expert": expert,
}

Resolver = Callable[[str], "Method | None"]


def hook_resolver(app_or_hooks: Any) -> Resolver:
    """A resolver that asks the plugins (``jixiao_score_method``, firstresult)."""
    from core.plugins import Hooks, hooks

    return (app_or_hooks if isinstance(app_or_hooks, Hooks) else hooks(app_or_hooks)).score_method


def find_method(name: str, resolver: Resolver | None = None) -> Method | None:
    """A built-in method by name, else the resolver's; built-ins cannot be replaced."""
    if name in METHODS:
        return METHODS[name]
    return resolver(name) if resolver is not None else None


# --- Trees and traces ---------------------------------------------------------

@dataclass
class Indicator:
    """A node of a weighted indicator sheet: a group with children, or a scored leaf.

    A group's ``weight`` may be left ``None``: it is then the sum of its children.
    """

    name: str
    weight: Decimal | int | str | None = None
    method: str | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    children: Sequence[Indicator] = ()


@dataclass
class NodeTrace:
    """How one node's points came about."""

    name: str
    weight: Decimal
    points: Decimal
    method: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    formula: str = ""
    children: list[NodeTrace] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "weight": _fmt(self.weight),
                               "points": _fmt(self.points)}
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        else:
            out.update(method=self.method, inputs=self.inputs, params=self.params,
                       formula=self.formula)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NodeTrace:
        return cls(name=data["name"], weight=_d(data["weight"]), points=_d(data["points"]),
                   method=data.get("method"), inputs=dict(data.get("inputs") or {}),
                   params=dict(data.get("params") or {}), formula=data.get("formula", ""),
                   children=[cls.from_dict(c) for c in data.get("children", [])])

    def to_indicator(self) -> Indicator:
        return Indicator(self.name, self.weight, self.method, dict(self.inputs),
                         dict(self.params), [c.to_indicator() for c in self.children])

    def walk(self, prefix: str = "") -> Iterator[tuple[str, NodeTrace]]:
        for child in self.children:
            path = _join(prefix, child.name)
            yield path, child
            yield from child.walk(path)


@dataclass
class ScoreTrace:
    """A computed score with everything needed to show and reproduce it."""

    rules: ScoringRules
    root: NodeTrace

    @property
    def total(self) -> Decimal:
        return self.root.points

    @property
    def grade(self) -> str:
        return self.rules.grade(self.total).code

    def lines(self) -> list[tuple[str, NodeTrace]]:
        """Every node below the root as (path, node), in sheet order, for display."""
        return list(self.root.walk())

    def node(self, path: str) -> NodeTrace:
        for p, n in self.root.walk():
            if p == path:
                return n
        raise KeyError(path)

    def to_dict(self) -> dict[str, Any]:
        return {"format": TRACE_FORMAT, "rules": self.rules.to_dict(),
                "total": _fmt(self.total), "grade": self.grade, "tree": self.root.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreTrace:
        if data.get("format") != TRACE_FORMAT:
            raise ScoringError(Problem("format", _l("Unknown trace format %(format)s.",
                                                    format=data.get("format"))))
        trace = cls(ScoringRules.from_dict(data["rules"]), NodeTrace.from_dict(data["tree"]))
        if _fmt(trace.total) != data.get("total"):
            raise ScoringError(Problem("total", _l("The stored total does not match the tree.")))
        return trace

    def recompute(self, resolver: Resolver | None = None) -> ScoreTrace:
        """Score the stored sheet and inputs again under the stored rule version, through
        the methods only: the kernel that may have produced the trace checks nothing."""
        return score(self.root.to_indicator(), self.rules, resolver, kernels=False)

    def reproduces(self, resolver: Resolver | None = None) -> bool:
        """True when recomputation gives exactly this trace (every node, every figure)."""
        return self.recompute(resolver).to_dict() == self.to_dict()


def score(tree: Indicator, rules: ScoringRules, resolver: Resolver | None = None,
          kernels: bool = True) -> ScoreTrace:
    """Score an indicator sheet; raises ``ScoringError`` listing every problem found.

    ``kernels=False`` scores every leaf through its method, never its kernel
    (``ScoreTrace.recompute``: the check of a stored trace)."""
    problems: list[Problem] = []
    with decimal.localcontext(CONTEXT):  # one context for the whole sheet
        root = _score_node(tree, "", rules, _once(resolver), problems, is_root=True,
                           kernels=kernels)
    if root is not None and not problems and root.weight != rules.total_weight:  # a lone leaf
        problems.append(Problem(tree.name, _l(
            "The weights add up to %(sum)s, not %(expected)s.", sum=_fmt(root.weight),
            expected=_fmt(rules.total_weight))))
    if problems or root is None:
        raise ScoringError(problems)
    return ScoreTrace(rules, root)


def _once(resolver: Resolver | None) -> Resolver | None:
    """The resolver asked once per method name for one sheet (structure check and scoring)."""
    if resolver is None:
        return None
    found: dict[str, Method | None] = {}

    def resolve(name: str) -> Method | None:
        if name not in found:
            found[name] = resolver(name)
        return found[name]

    return resolve


def check_sheet(tree: Indicator, rules: ScoringRules,
                resolver: Resolver | None = None) -> list[Problem]:
    """Problems of the sheet itself (weights, methods, names), before any input is known."""
    problems: list[Problem] = []
    _check_structure(tree, "", rules, resolver, problems, is_root=True)
    return problems


def _weight(node: Indicator, path: str, rules: ScoringRules,
            problems: list[Problem]) -> Decimal | None:
    if node.weight is None:
        return None
    try:
        w = to_decimal(node.weight, "weight")
    except ScoringError as exc:
        problems += [Problem(_join(path, "weight") if path else "weight", p.message)
                     for p in exc.problems]
        return None
    where = path or node.name
    if w <= 0:
        problems.append(Problem(where, _l("The weight must be positive, not %(weight)s.",
                                          weight=_fmt(w))))
    elif w != rules.quantize(w):
        problems.append(Problem(where, _l("The weight %(weight)s has too many decimal places.",
                                          weight=_fmt(w))))
    return w


def _check_structure(node: Indicator, path: str, rules: ScoringRules,
                     resolver: Resolver | None, problems: list[Problem],
                     is_root: bool = False) -> Decimal | None:
    """Validate one node and its subtree; returns its weight (None if unknown)."""
    where = path or node.name
    if not str(node.name or "").strip():
        problems.append(Problem(where or "?", _l("Every indicator needs a name.")))
    w = _weight(node, path, rules, problems)
    if node.children:
        if node.method:
            problems.append(Problem(where, _l(
                "A group of indicators cannot have a scoring method itself.")))
        names = [c.name for c in node.children]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            problems.append(Problem(_join(path, dup), _l(
                "Two indicators in the same group are called “%(name)s”.", name=dup)))
        weights = [_check_structure(c, _join(path, c.name), rules, resolver, problems)
                   for c in node.children]
        if any(cw is None for cw in weights):
            return w
        total = sum(weights, Decimal(0))
        if w is not None and total != w:
            problems.append(Problem(where, _l(
                "The weights add up to %(sum)s, not %(expected)s.", sum=_fmt(total),
                expected=_fmt(w))))
        w = total if w is None else w
        if is_root and w != rules.total_weight:
            problems.append(Problem(where, _l(
                "The weights add up to %(sum)s, not %(expected)s.", sum=_fmt(w),
                expected=_fmt(rules.total_weight))))
        return w
    if w is None and node.weight is None:
        problems.append(Problem(where, _l("The indicator has no weight.")))
    if not node.method:
        problems.append(Problem(where, _l("The indicator has no scoring method.")))
    elif find_method(node.method, resolver) is None:
        problems.append(Problem(where, _l("Unknown scoring method “%(method)s”.",
                                          method=node.method)))
    return w


def _score_node(node: Indicator, path: str, rules: ScoringRules, resolver: Resolver | None,
                problems: list[Problem], is_root: bool = False,
                kernels: bool = True) -> NodeTrace | None:
    if is_root:  # sheet problems first; then every leaf still reports its inputs
        _check_structure(node, path, rules, resolver, problems, is_root=True)
    where = path or node.name
    if node.children:
        kids = [_score_node(c, _join(path, c.name), rules, resolver, problems,
                            kernels=kernels) for c in node.children]
        if any(k is None for k in kids):
            return None
        weight = sum((k.weight for k in kids), Decimal(0))  # type: ignore[union-attr]
        points = sum((k.points for k in kids), Decimal(0))  # type: ignore[union-attr]
        return NodeTrace(node.name, weight, points, children=kids)  # type: ignore[arg-type]
    method = find_method(str(node.method), resolver)
    try:
        weight = to_decimal(node.weight, "weight")
    except ScoringError:
        return None  # reported by _check_structure
    if method is None or weight <= 0:
        return None  # reported by _check_structure
    try:
        inputs = to_json_value(dict(node.inputs), "inputs")
        params = to_json_value(dict(node.params), "params")
    except ScoringError as exc:
        problems += [Problem(_join(where, p.path), p.message) for p in exc.problems]
        return None
    fast = getattr(method, "kernel", None) if kernels else None
    if fast is not None and not params:
        try:
            found = fast(weight, inputs, rules)
        except ArithmeticError:
            found = None  # the method itself reports it
        if found is not None and type(found[1]) is str:
            points = rules.quantize(found[0])
            if 0 <= points <= weight:
                return NodeTrace(node.name, weight, points, node.method, inputs, params,
                                 found[1])
    call = MethodCall(weight, inputs, params, rules)
    try:
        result = method(call)  # type: ignore[misc]
    except ScoringError as exc:
        problems += [Problem(_join(where, p.path), p.message) for p in exc.problems]
        return None
    except ArithmeticError as exc:
        problems.append(Problem(where, _l("The method “%(method)s” failed: %(error)s",
                                          method=node.method, error=type(exc).__name__)))
        return None
    if not isinstance(result, MethodResult):
        result = MethodResult(result)
    if not isinstance(result.points, Decimal):
        problems.append(Problem(where, _l(
            "The method “%(method)s” returned %(type)s instead of a Decimal.",
            method=node.method, type=type(result.points).__name__)))
        return None
    points = rules.quantize(result.points)
    if not 0 <= points <= weight:
        problems.append(Problem(where, _l(
            "The method “%(method)s” gave %(points)s points, outside 0–%(weight)s.",
            method=node.method, points=_fmt(points), weight=_fmt(weight))))
        return None
    return NodeTrace(node.name, weight, points, node.method, inputs, params, result.formula)
