"""Catalogue rules as versioned data (docs/domain.md, "Key-evaluation catalogue").

Every figure is a default stored as a ``CatalogueRules`` version with the first
fiscal year it applies to. A deployment adds or replaces versions with the
setting ``CATALOGUE_RULE_VERSIONS`` (a list of ``to_dict()``-style dicts);
``rules_for_year`` picks the latest version valid for a year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class CatalogueRules:
    code: str
    valid_from: int
    #: recurring items of these kinds at or above this amount are proposed
    recurring_threshold: Decimal = Decimal(10_000_000)
    recurring_kinds: tuple[str, ...] = ("project",)
    #: items flagged as key tasks (central, city or district priorities) of these kinds
    key_task_kinds: tuple[str, ...] = ("project", "policy")
    #: every entry gets a key evaluation within this many years
    cycle_years: int = 5
    #: evaluation kinds (core.contracts.EvaluationResult.kind) that cover an entry
    covering_kinds: tuple[str, ...] = ("department_key", "finance_key")

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "valid_from": self.valid_from,
                "recurring_threshold": str(self.recurring_threshold),
                "recurring_kinds": list(self.recurring_kinds),
                "key_task_kinds": list(self.key_task_kinds), "cycle_years": self.cycle_years,
                "covering_kinds": list(self.covering_kinds)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CatalogueRules:
        base = DEFAULT
        return cls(
            code=str(data["code"]), valid_from=int(data["valid_from"]),
            recurring_threshold=Decimal(str(data.get("recurring_threshold",
                                                     base.recurring_threshold))),
            recurring_kinds=tuple(data.get("recurring_kinds", base.recurring_kinds)),
            key_task_kinds=tuple(data.get("key_task_kinds", base.key_task_kinds)),
            cycle_years=int(data.get("cycle_years", base.cycle_years)),
            covering_kinds=tuple(data.get("covering_kinds", base.covering_kinds)))


#: The 2021 rule of the district: recurring projects ≥ 10,000,000 yuan and key-task
#: items, each evaluated by its department within 5 years.
DEFAULT = CatalogueRules(code="catalogue-2021", valid_from=2021)


def versions(extra: Iterable[Mapping[str, Any]] = ()) -> list[CatalogueRules]:
    by_code = {DEFAULT.code: DEFAULT}
    for data in extra or ():
        rules = CatalogueRules.from_dict(data)
        by_code[rules.code] = rules
    return sorted(by_code.values(), key=lambda v: v.valid_from)


def rules_for_year(year: int) -> CatalogueRules:
    """The latest version valid for ``year`` (the earliest one for older years)."""
    from flask import current_app, has_app_context

    extra = current_app.config.get("CATALOGUE_RULE_VERSIONS", ()) if has_app_context() else ()
    found = versions(extra)
    chosen = found[0]
    for version in found:
        if version.valid_from <= year:
            chosen = version
    return chosen
