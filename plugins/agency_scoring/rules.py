"""Agency assessment rules (第三方机构考核) as versioned data.

Every figure is a default (docs/domain.md: "grades, scores and exclusion periods are
not published: configurable"). A version holds the commissioning party's sheet,
the finance bureau's spot-check (抽查) sheet, the veto items (一票否决), the
weights that combine the two scores, the grade bands, the appeal window, the
rating adjustments and the consequences. ``AGENCY_SCORING_RULE_VERSIONS`` (a
list of ``to_dict()``-style dicts) adds or replaces versions; ``rules_for_year``
picks the latest valid for the year an engagement ended in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.services.scoring import Band, Indicator, QualitativeLevel, ScoringRules

#: inputs some items may be filled from the agency portal's records
TIMELINESS, STAFFING = "timeliness", "staffing"


@dataclass(frozen=True)
class SheetItem:
    """One scored indicator: ``path`` is ``group/name`` (e.g. ``工作质量/报告质量``)."""

    path: str
    weight: Decimal
    method: str  # a core.services.scoring method: qualitative (graded), deduction, proportional
    params: Mapping[str, Any] = field(default_factory=dict)
    #: TIMELINESS: days late, from the deliverable dates; STAFFING: team vs logged staff
    evidence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "weight": str(self.weight), "method": self.method,
                "params": dict(self.params), "evidence": self.evidence}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SheetItem:
        return cls(str(data["path"]), Decimal(str(data["weight"])), str(data["method"]),
                   dict(data.get("params") or {}), str(data.get("evidence", "")))


def sheet_tree(name: str, items: Iterable[SheetItem],
               inputs: Mapping[str, Mapping[str, Any]]) -> Indicator:
    """The engine's indicator tree of a sheet, with each item's inputs by path."""
    groups: dict[str, list[Indicator]] = {}
    for item in items:
        group, leaf = item.path.split("/", 1)
        groups.setdefault(group, []).append(Indicator(
            leaf, item.weight, item.method, dict(inputs.get(item.path) or {}),
            dict(item.params)))
    return Indicator(name, children=[Indicator(g, children=c) for g, c in groups.items()])


@dataclass(frozen=True)
class AgencyScoringRules:
    """One version of the agency assessment rules."""

    code: str
    valid_from: int
    scoring: ScoringRules  # grade bands (优/良/中/差) and the graded scale
    sheet: tuple[SheetItem, ...]
    spot_sheet: tuple[SheetItem, ...]
    #: veto code → its name; any of them sets the result to the lowest grade
    vetoes: Mapping[str, str]
    party_weight: Decimal = Decimal(70)  # percent of the engagement score
    spot_weight: Decimal = Decimal(30)  # when the bureau spot-checked the report
    appeal_days: int = 10
    #: annual rating: points off per poor spot-check and per veto of the year
    spot_poor_deduction: Decimal = Decimal(5)
    violation_deduction: Decimal = Decimal(10)
    #: consequences: exclusion years for a poor rating and for a veto; a warning
    #: after this many fair (中) ratings in a row
    poor_exclusion_years: int = 1
    veto_exclusion_years: int = 3
    fair_streak_warning: int = 2

    @property
    def lowest_grade(self) -> str:
        return min(self.scoring.bands, key=lambda b: b.lower).code

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "valid_from": self.valid_from,
                "scoring": self.scoring.to_dict(),
                "sheet": [i.to_dict() for i in self.sheet],
                "spot_sheet": [i.to_dict() for i in self.spot_sheet],
                "vetoes": dict(self.vetoes), "party_weight": str(self.party_weight),
                "spot_weight": str(self.spot_weight), "appeal_days": self.appeal_days,
                "spot_poor_deduction": str(self.spot_poor_deduction),
                "violation_deduction": str(self.violation_deduction),
                "poor_exclusion_years": self.poor_exclusion_years,
                "veto_exclusion_years": self.veto_exclusion_years,
                "fair_streak_warning": self.fair_streak_warning}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgencyScoringRules:
        base = DEFAULT.to_dict() | dict(data)
        return cls(
            code=str(base["code"]), valid_from=int(base["valid_from"]),
            scoring=ScoringRules.from_dict(base["scoring"]),
            sheet=tuple(SheetItem.from_dict(i) for i in base["sheet"]),
            spot_sheet=tuple(SheetItem.from_dict(i) for i in base["spot_sheet"]),
            vetoes=dict(base["vetoes"]), party_weight=Decimal(str(base["party_weight"])),
            spot_weight=Decimal(str(base["spot_weight"])), appeal_days=int(base["appeal_days"]),
            spot_poor_deduction=Decimal(str(base["spot_poor_deduction"])),
            violation_deduction=Decimal(str(base["violation_deduction"])),
            poor_exclusion_years=int(base["poor_exclusion_years"]),
            veto_exclusion_years=int(base["veto_exclusion_years"]),
            fair_streak_warning=int(base["fair_streak_warning"]))


def _items(*rows: tuple) -> tuple[SheetItem, ...]:
    return tuple(SheetItem(path, Decimal(weight), method, params, *extra)
                 for path, weight, method, params, *extra in rows)


GRADED = {"scale": "graded"}

#: Bands 优 ≥ 90, 良 80–<90, 中 60–<80, 差 < 60 (product defaults, docs/domain.md); the graded
#: scale A–D gives 90–100 / 80–90 / 60–80 / 0–60 % of an indicator's points.
AGENCY_SCORING_2021_BANDS = ScoringRules(
    code="agency-assessment-2021", valid_from=2021,
    bands=(Band("poor", Decimal(0), Decimal(60)), Band("fair", Decimal(60), Decimal(80)),
           Band("good", Decimal(80), Decimal(90)), Band("excellent", Decimal(90), Decimal(100))),
    qualitative_scales={"graded": (
        QualitativeLevel("A", Decimal(90), Decimal(100), Decimal(100)),
        QualitativeLevel("B", Decimal(80), Decimal(90), Decimal(85)),
        QualitativeLevel("C", Decimal(60), Decimal(80), Decimal(70)),
        QualitativeLevel("D", Decimal(0), Decimal(60), Decimal(40)))})

#: The 2021 "improved assessment mechanism" (the sheet's weights are a product
#: choice: the bureau does not publish them).
AGENCY_2021 = AgencyScoringRules(
    code="agency-2021", valid_from=2021, scoring=AGENCY_SCORING_2021_BANDS,
    sheet=_items(
        ("工作质量/报告质量", 15, "qualitative", GRADED),
        ("工作质量/证据充分性", 10, "qualitative", GRADED),
        ("工作质量/结论合理性", 15, "qualitative", GRADED),
        ("时效性/按期提交成果", 15, "deduction", {"per_defect": "1"}, TIMELINESS),
        ("人员配备/团队与合同一致", 10, "proportional", {}, STAFFING),
        ("人员配备/人员资质", 5, "qualitative", GRADED),
        ("工作纪律/独立性", 5, "deduction", {"per_defect": "5"}),
        ("工作纪律/保密", 5, "deduction", {"per_defect": "5"}),
        ("工作纪律/未转包分包", 5, "deduction", {"per_defect": "5"}),
        ("配合度/沟通配合", 15, "qualitative", GRADED),
    ),
    spot_sheet=_items(
        ("抽查/报告规范性", 30, "qualitative", GRADED),
        ("抽查/证据充分性", 35, "qualitative", GRADED),
        ("抽查/结论可靠性", 35, "qualitative", GRADED),
    ),
    vetoes={"false_conclusions": "结论失实", "subcontracting": "转包核心业务",
            "hidden_conflict": "隐瞒利益冲突", "leaking": "泄露信息"},
)
DEFAULT = AGENCY_2021
DEFAULT_VERSIONS = (AGENCY_2021,)


def versions(extra: Iterable[Mapping[str, Any]] = ()) -> list[AgencyScoringRules]:
    """The built-in versions, replaced or extended by configured ones (same code wins)."""
    by_code = {v.code: v for v in DEFAULT_VERSIONS}
    for data in extra or ():
        rules = AgencyScoringRules.from_dict(data)
        by_code[rules.code] = rules
    return sorted(by_code.values(), key=lambda v: v.valid_from)


def _configured() -> list[AgencyScoringRules]:
    from flask import current_app, has_app_context

    extra = current_app.config.get("AGENCY_SCORING_RULE_VERSIONS", ()) \
        if has_app_context() else ()
    return versions(extra)


def rules_for_year(year: int) -> AgencyScoringRules:
    """The latest version valid for ``year`` (the earliest one for older years)."""
    found = _configured()
    chosen = found[0]
    for version in found:
        if version.valid_from <= year:
            chosen = version
    return chosen


def find_rules(code: str) -> AgencyScoringRules | None:
    return next((v for v in _configured() if v.code == code), None)
