"""Disclosure rules as versioned data (docs/domain.md, "Disclosure").

A ``DisclosureRules`` version holds the first fiscal year it applies to; the
setting ``DISCLOSURE_RULE_VERSIONS`` (a list of ``to_dict()``-style dicts) adds
or replaces versions, and ``rules_for_year`` picks the latest valid one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class DisclosureRules:
    code: str
    valid_from: int
    #: published evaluation results must cover this share (%) of a department's
    #: project expenditure of the year
    result_share: Decimal = Decimal(50)
    #: the budget disclosure scope: items of these kinds publish their targets
    scope_kinds: tuple[str, ...] = ("project",)
    #: the expenditure the result share is measured against
    expenditure_kinds: tuple[str, ...] = ("project",)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "valid_from": self.valid_from,
                "result_share": str(self.result_share), "scope_kinds": list(self.scope_kinds),
                "expenditure_kinds": list(self.expenditure_kinds)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DisclosureRules:
        return cls(code=str(data["code"]), valid_from=int(data["valid_from"]),
                   result_share=Decimal(str(data.get("result_share", DEFAULT.result_share))),
                   scope_kinds=tuple(data.get("scope_kinds", DEFAULT.scope_kinds)),
                   expenditure_kinds=tuple(data.get("expenditure_kinds",
                                                    DEFAULT.expenditure_kinds)))


#: 2021: targets of every project published with the budget; results ≥ 50 %.
DEFAULT = DisclosureRules(code="disclosure-2021", valid_from=2021)


def versions(extra: Iterable[Mapping[str, Any]] = ()) -> list[DisclosureRules]:
    by_code = {DEFAULT.code: DEFAULT}
    for data in extra or ():
        rules = DisclosureRules.from_dict(data)
        by_code[rules.code] = rules
    return sorted(by_code.values(), key=lambda v: v.valid_from)


def rules_for_year(year: int) -> DisclosureRules:
    from flask import current_app, has_app_context

    extra = current_app.config.get("DISCLOSURE_RULE_VERSIONS", ()) if has_app_context() else ()
    found = versions(extra)
    chosen = found[0]
    for version in found:
        if version.valid_from <= year:
            chosen = version
    return chosen
