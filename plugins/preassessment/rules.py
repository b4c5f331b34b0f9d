"""Pre-assessment rules as versioned data: thresholds, exempt kinds, the indicator sheet, bands.

Every figure is a default of the domain rules (docs/domain.md, "Pre-assessment"),
kept as a ``PreassessmentRules`` version with the first fiscal year it applies
to. A deployment adds or replaces versions with the setting
``PREASSESSMENT_RULE_VERSIONS`` (a list of ``PreassessmentRules.to_dict()``-style
dicts); ``rules_for_year`` picks the latest version valid for a budget year.

The score bands are the conclusion's cut-offs (not published: configurable);
they are core ``ScoringRules`` bands, so the engine's grade of a score is the
suggested conclusion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from core.services.scoring import (
    Band,
    Indicator,
    MethodCall,
    MethodResult,
    Problem,
    ScoringError,
    ScoringRules,
    check_sheet,
)

SUPPORT, ADJUST, REJECT = "support", "adjust", "reject"
#: Exempt kinds reviewed by a specialist department through its own approval.
EXEMPT_KINDS = ("capital_construction", "information_technology", "urban_maintenance",
                "industrial_policy")
POINTS_METHOD = "preassessment_points"


def points_method(call: MethodCall) -> MethodResult:
    """Points given directly by the assessor: 0 to the indicator's weight, ≤ 2 places."""
    points = call.number("points", minimum=0, maximum=call.weight)
    if not call.problems and points != points.quantize(Decimal("0.01")):
        call.problems.append(Problem("points", _l("At most two decimal places are allowed.")))
    call.check()
    return MethodResult(points, f"{points}")


@dataclass(frozen=True)
class SheetIndicator:
    """One indicator of the self-assessment / expert sheet, under one dimension."""

    dimension: str
    name: str
    weight: Decimal

    @property
    def path(self) -> str:
        return f"{self.dimension}/{self.name}"


@dataclass(frozen=True)
class PreassessmentRules:
    """One version of the pre-assessment rules."""

    code: str
    valid_from: int
    #: items of at least this amount (yuan) need a pre-assessment
    threshold: Decimal
    #: the finance bureau picks its key pre-assessments from items of at least this amount
    key_threshold: Decimal
    #: budget item kinds that need one (core ItemKind values)
    item_kinds: tuple[str, ...]
    exempt_kinds: tuple[str, ...]
    sheet: tuple[SheetIndicator, ...]
    #: score bands → conclusion code (support / adjust / reject), covering 0–100
    bands: tuple[Band, ...]
    #: from this many experts on, the highest and lowest total are dropped
    trim_from: int = 5
    #: a panel is complete only when at least this many experts have all submitted
    min_experts: int = 2

    def __post_init__(self) -> None:
        """Bands must cover 0–100 and the sheet's weights must add up to 100."""
        problems = check_sheet(self.sheet_tree({}), self.scoring_rules(),
                               lambda name: points_method if name == POINTS_METHOD else None)
        if problems:
            raise ScoringError(problems)

    def scoring_rules(self) -> ScoringRules:
        """The core scoring rules of this version (validates the bands)."""
        return ScoringRules(code=self.code, valid_from=self.valid_from, bands=self.bands,
                            qualitative_scales={})

    def sheet_tree(self, points: Mapping[str, Any], root: str = "事前绩效评估") -> Indicator:
        """The indicator tree with the given points (by indicator path)."""
        groups = []
        for dimension in dict.fromkeys(i.dimension for i in self.sheet):
            groups.append(Indicator(dimension, children=[
                Indicator(i.name, i.weight, POINTS_METHOD, {"points": points.get(i.path)})
                for i in self.sheet if i.dimension == dimension]))
        return Indicator(root, children=groups)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "valid_from": self.valid_from,
                "threshold": str(self.threshold), "key_threshold": str(self.key_threshold),
                "item_kinds": list(self.item_kinds), "exempt_kinds": list(self.exempt_kinds),
                "sheet": [[i.dimension, i.name, str(i.weight)] for i in self.sheet],
                "bands": [[b.code, str(b.lower), str(b.upper)] for b in self.bands],
                "trim_from": self.trim_from, "min_experts": self.min_experts}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PreassessmentRules:
        base = DEFAULT_RULES
        return cls(
            code=str(data["code"]), valid_from=int(data["valid_from"]),
            threshold=Decimal(str(data.get("threshold", base.threshold))),
            key_threshold=Decimal(str(data.get("key_threshold", base.key_threshold))),
            item_kinds=tuple(data.get("item_kinds", base.item_kinds)),
            exempt_kinds=tuple(data.get("exempt_kinds", base.exempt_kinds)),
            sheet=tuple(SheetIndicator(d, n, Decimal(str(w))) for d, n, w in data["sheet"])
            if "sheet" in data else base.sheet,
            bands=tuple(Band(c, Decimal(str(lo)), Decimal(str(up))) for c, lo, up in data["bands"])
            if "bands" in data else base.bands,
            trim_from=int(data.get("trim_from", base.trim_from)),
            min_experts=int(data.get("min_experts", base.min_experts)))


def _sheet(rows) -> tuple[SheetIndicator, ...]:
    return tuple(SheetIndicator(d, n, Decimal(w)) for d, n, w in rows)


#: The defaults: 1,000,000 yuan, key pre-assessments from 5,000,000 yuan, five
#: dimensions of 20 points with two indicators each; support ≥ 80, adjust 60–80.
DEFAULT_RULES = PreassessmentRules(
    code="preassessment-2021", valid_from=2021,
    threshold=Decimal("1000000"), key_threshold=Decimal("5000000"),
    item_kinds=("project", "policy"), exempt_kinds=EXEMPT_KINDS,
    sheet=_sheet([
        ("立项必要性", "政策依据与规划相符性", 10), ("立项必要性", "现实需求与紧迫性", 10),
        ("投入经济性", "成本测算合理性", 10), ("投入经济性", "投入产出比", 10),
        ("绩效目标合理性", "目标明确性与相关性", 10), ("绩效目标合理性", "指标细化量化程度", 10),
        ("实施方案可行性", "方案完整性与可操作性", 10), ("实施方案可行性", "组织保障与风险防控", 10),
        ("筹资合规性", "资金来源合规性", 10), ("筹资合规性", "财政支持方式适当性", 10),
    ]),
    bands=(Band(REJECT, Decimal(0), Decimal(60)), Band(ADJUST, Decimal(60), Decimal(80)),
           Band(SUPPORT, Decimal(80), Decimal(100))),
)

DEFAULT_VERSIONS = (DEFAULT_RULES,)


def versions(extra: Iterable[Mapping[str, Any]] = ()) -> list[PreassessmentRules]:
    """The built-in versions, replaced or extended by configured ones (same code wins)."""
    by_code = {v.code: v for v in DEFAULT_VERSIONS}
    for data in extra or ():
        rules = PreassessmentRules.from_dict(data)
        by_code[rules.code] = rules
    return sorted(by_code.values(), key=lambda v: v.valid_from)


def _configured() -> Iterable[Mapping[str, Any]]:
    from flask import current_app, has_app_context

    return current_app.config.get("PREASSESSMENT_RULE_VERSIONS", ()) if has_app_context() else ()


def rules_for_year(year: int) -> PreassessmentRules:
    """The latest version valid for budget ``year`` (the earliest one for older years)."""
    found = versions(_configured())
    chosen = found[0]
    for version in found:
        if version.valid_from <= year:
            chosen = version
    return chosen


def find_rules(code: str) -> PreassessmentRules | None:
    return next((v for v in versions(_configured()) if v.code == code), None)
