"""Target rules as versioned data: the indicator categories, the checks' figures, coverage.

Every figure here is a default of the domain rules (docs/domain.md, "Targets"),
stored as a ``TargetRules`` version with the first fiscal year it applies to,
never as a constant in code. A deployment adds or replaces versions with the
setting ``TARGET_RULE_VERSIONS`` (a list of ``TargetRules.to_dict()``-style
dicts); ``rules_for_year`` picks the latest version valid for a year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

OUTPUTS, BENEFITS, SATISFACTION, COSTS = "产出", "效益", "满意度", "成本"
_OUTPUT_L2 = ("数量", "质量", "时效", "成本")
_BENEFIT_L2 = ("经济效益", "社会效益", "生态效益", "可持续影响")
_SATISFACTION_L2 = ("服务对象满意度",)

#: owner org kinds (core OrgKind values)
_DISTRICT = ("department", "unit")
_TOWN = ("town_department",)


@dataclass(frozen=True)
class TargetRules:
    """One version of the target rules."""

    code: str
    valid_from: int
    #: level 1 → its level-2 categories, in display order
    categories: Mapping[str, tuple[str, ...]]
    #: the level 1 that must hold a quantitative indicator, and the one that must be present
    output_level1: str = OUTPUTS
    benefit_level1: str = BENEFITS
    total_weight: Decimal = Decimal(100)
    #: item kind → level-1 categories a complete sheet of that kind must cover
    complete_kinds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: item kind → owner org kinds whose items need targets (coverage report)
    required: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def level2_of(self, level1: str) -> tuple[str, ...]:
        return self.categories.get(level1, ())

    def needs_targets(self, item_kind: str, org_kind: str) -> bool:
        return org_kind in self.required.get(item_kind, ())

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "valid_from": self.valid_from,
                "categories": {k: list(v) for k, v in self.categories.items()},
                "output_level1": self.output_level1, "benefit_level1": self.benefit_level1,
                "total_weight": str(self.total_weight),
                "complete_kinds": {k: list(v) for k, v in self.complete_kinds.items()},
                "required": {k: list(v) for k, v in self.required.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TargetRules:
        return cls(code=str(data["code"]), valid_from=int(data["valid_from"]),
                   categories={k: tuple(v) for k, v in data["categories"].items()},
                   output_level1=data.get("output_level1", OUTPUTS),
                   benefit_level1=data.get("benefit_level1", BENEFITS),
                   total_weight=Decimal(str(data.get("total_weight", "100"))),
                   complete_kinds={k: tuple(v) for k, v in
                                   data.get("complete_kinds", {}).items()},
                   required={k: tuple(v) for k, v in data.get("required", {}).items()})


_COMPLETE = {"policy": (OUTPUTS, BENEFITS, SATISFACTION),
             "department_overall": (OUTPUTS, BENEFITS, SATISFACTION)}

#: Before 2021: overall targets for district departments only, policy targets district only.
TARGETS_2018 = TargetRules(
    code="targets-2018", valid_from=2018,
    categories={OUTPUTS: _OUTPUT_L2, BENEFITS: _BENEFIT_L2, SATISFACTION: _SATISFACTION_L2},
    complete_kinds=_COMPLETE,
    required={"project": (*_DISTRICT, *_TOWN), "policy": _DISTRICT,
              "department_overall": ("department",)})

#: The 2021 extension: overall targets also for district units and town departments,
#: policy targets also for towns.
TARGETS_2021 = TargetRules(
    code="targets-2021", valid_from=2021, categories=TARGETS_2018.categories,
    complete_kinds=_COMPLETE,
    required={"project": (*_DISTRICT, *_TOWN), "policy": (*_DISTRICT, *_TOWN),
              "department_overall": (*_DISTRICT, *_TOWN)})

#: 财预〔2021〕101号 adds 成本 as a level-1 category (from the 2022 budget; configurable).
TARGETS_2022 = TargetRules(
    code="targets-2022", valid_from=2022,
    categories={OUTPUTS: _OUTPUT_L2, COSTS: ("经济成本", "社会成本", "生态环境成本"),
                BENEFITS: _BENEFIT_L2, SATISFACTION: _SATISFACTION_L2},
    complete_kinds=_COMPLETE, required=TARGETS_2021.required)

DEFAULT_VERSIONS = (TARGETS_2018, TARGETS_2021, TARGETS_2022)


def versions(extra: Iterable[Mapping[str, Any]] = ()) -> list[TargetRules]:
    """The built-in versions, replaced or extended by configured ones (same code wins)."""
    by_code = {v.code: v for v in DEFAULT_VERSIONS}
    for data in extra or ():
        rules = TargetRules.from_dict(data)
        by_code[rules.code] = rules
    return sorted(by_code.values(), key=lambda v: v.valid_from)


def rules_for_year(year: int, extra: Iterable[Mapping[str, Any]] | None = None) -> TargetRules:
    """The latest version valid for ``year`` (the earliest one for older years)."""
    if extra is None:
        from flask import current_app, has_app_context

        extra = current_app.config.get("TARGET_RULE_VERSIONS", ()) if has_app_context() else ()
    found = versions(extra)
    chosen = found[0]
    for version in found:
        if version.valid_from <= year:
            chosen = version
    return chosen


def find_rules(code: str) -> TargetRules | None:
    from flask import current_app, has_app_context

    extra = current_app.config.get("TARGET_RULE_VERSIONS", ()) if has_app_context() else ()
    return next((v for v in versions(extra) if v.code == code), None)
