"""Evaluation rules as versioned data: scoring versions, result application, re-evaluation gap.

The self-evaluation scoring rules are ``core.scoring.ScoringRules`` versions
(grade bands 优/良/中/差, qualitative bands, default level-1 weights). The
built-in one is ``SELF_EVALUATION_2020``; a deployment adds or replaces versions
with the setting ``EVALUATION_RULE_VERSIONS`` (a list of ``ScoringRules.to_dict()``
dicts). Result-application suggestions by grade and the re-evaluation gap are
settings too (``EVALUATION_SUGGESTIONS``, ``EVALUATION_REEVAL_GAP``); none of the
figures is a constant of the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from core.scoring import SELF_EVALUATION_2020, Problem, ScoringError, ScoringRules

#: level-1 category of a target sheet → the default-weight key of the rule version
LEVEL1_KEYS = {"产出": "outputs", "成本": "outputs", "效益": "outcomes", "满意度": "satisfaction"}
EXECUTION_KEY = "budget_execution"

#: grade code → contract letter (core.contracts.EvaluationResult.grade)
LETTERS = {"excellent": "A", "good": "B", "fair": "C", "poor": "D"}

#: the default suggestion per grade (结果应用); finance accepts or changes it
DEFAULT_SUGGESTIONS = {
    "excellent": "keep",
    "good": "keep",
    "fair": "rectify_first",
    "poor": "cut",
}
SUGGESTION_LABELS = {
    "keep": _l("Keep support"),
    "rectify_first": _l("Rectify before funding"),
    "cut": _l("Cut or cancel next year's budget"),
}


def versions(extra: Iterable[Mapping[str, Any]] | None = None) -> list[ScoringRules]:
    """The built-in version, replaced or extended by configured ones (same code wins)."""
    if extra is None:
        extra = current_app.config.get("EVALUATION_RULE_VERSIONS", ()) if has_app_context() \
            else ()
    by_code = {SELF_EVALUATION_2020.code: SELF_EVALUATION_2020}
    for data in extra or ():
        rules = ScoringRules.from_dict(data)
        by_code[rules.code] = rules
    return sorted(by_code.values(), key=lambda v: v.valid_from)


def rules_for_year(year: int) -> ScoringRules:
    """The latest version valid for ``year`` (the earliest one for older years)."""
    found = versions()
    chosen = found[0]
    for version in found:
        if version.valid_from <= year:
            chosen = version
    return chosen


def find_rules(code: str | None) -> ScoringRules:
    """The version ``code``, or the latest one when ``code`` is empty."""
    found = versions()
    if not code:
        return found[-1]
    for version in found:
        if version.code == code:
            return version
    raise ScoringError(Problem("rule_version", _l("Unknown rule version “%(code)s”.",
                                                  code=code)))


def execution_weight(rules: ScoringRules) -> Decimal:
    return Decimal(rules.default_weights.get(EXECUTION_KEY, Decimal(10)))


def suggestion_for(grade: str) -> str:
    configured = current_app.config.get("EVALUATION_SUGGESTIONS") or {}
    return configured.get(grade) or DEFAULT_SUGGESTIONS.get(grade, "rectify_first")


def reeval_gap() -> Decimal:
    """Points of difference between self and re-evaluated score that are flagged."""
    return Decimal(str(current_app.config.get("EVALUATION_REEVAL_GAP", "10")))
