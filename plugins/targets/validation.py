"""Rules for one indicator and for a whole sheet, shared by the admin, the API and Excel.

``clean_indicator(raw, rules, resolver)`` checks one indicator (categories from
the rule version, comparator, value, unit, weight, scoring method) and returns
the cleaned values and the problems, each naming its field. ``sheet_problems``
checks a set of indicators together (duplicates, weights adding up to 100).
``quality_problems(sheet)`` is the check before submit; plugins add rules
through the ``jixiao_target_checks`` hook.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from core.services.scoring import find_method, hook_resolver
from plugins.targets.models import (
    COMPARATOR_LABELS,
    DEFAULT_METHOD,
    METHOD_LABELS,
    QUANTITATIVE,
    Comparator,
)
from plugins.targets.rules import TargetRules

#: field key → label, as the Excel headers and the messages name them
FIELD_LABELS = {
    "level1": _l("Level-1 indicator"), "level2": _l("Level-2 indicator"),
    "name": _l("Level-3 indicator"), "comparator": _l("Comparator"),
    "target_value": _l("Target value"), "unit": _l("Unit"), "weight": _l("Weight"),
    "data_source": _l("Data source"), "scoring_method": _l("Scoring method"),
    "period_value": _l("Whole-period value"), "goal": _l("Overall goal"),
}
_RANGE = re.compile(r"^\s*(-?[\d.]+)\s*[-~～—至]\s*(-?[\d.]+)\s*$")
MAX_LENGTHS = {"name": 200, "target_value": 200, "period_value": 200, "unit": 40,
               "data_source": 200}


@dataclass(frozen=True)
class Problem:
    """One problem: the field (or "" for the sheet) and a message."""

    field: str
    message: Any

    def __str__(self) -> str:
        label = FIELD_LABELS.get(self.field)
        return f"{label}: {self.message}" if label else str(self.message)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = repr(value) if not value.is_integer() else int(value)
    return str(value).strip()


def parse_number(value: Any) -> Decimal | None:
    """An exact decimal from text, an int, a Decimal or an Excel float (its shortest repr)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


#: what a comparator cell may say besides its code and its (translated) label
_COMPARATOR_ALIASES = {
    **{m.value: m for m in Comparator}, "≥": Comparator.GE, "≤": Comparator.LE,
    "=": Comparator.EQ, ">=": Comparator.GE, "<=": Comparator.LE, "＝": Comparator.EQ,
    "区间": Comparator.RANGE, "定性": Comparator.QUALITATIVE}


def parse_comparator(value: Any) -> Comparator | None:
    if isinstance(value, Comparator):
        return value
    got = _text(value)
    found = _COMPARATOR_ALIASES.get(got)  # the common cases, without translating labels
    if found is not None or not got:
        return found
    for member, label in COMPARATOR_LABELS.items():
        if got == str(label):
            return member
    return None


def parse_method(value: Any) -> str:
    got = _text(value)
    if not got or got in METHOD_LABELS:
        return got
    for code, label in METHOD_LABELS.items():
        if got == str(label):
            return code
    return got


def _resolver():
    return hook_resolver(current_app) if has_app_context() else None


def clean_indicator(raw: Mapping[str, Any], rules: TargetRules,
                    methods: dict[str, bool] | None = None
                    ) -> tuple[dict[str, Any], list[Problem]]:
    """Check one indicator; the cleaned values and every problem (each naming its field).

    ``methods`` (scoring method → known?) may be passed to remember the lookups
    over many calls, as the Excel import does.
    """
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    level1, level2, name = _text(raw.get("level1")), _text(raw.get("level2")), \
        _text(raw.get("name"))
    if level1 not in rules.categories:
        problems.append(Problem("level1", _l(
            "“%(value)s” is not a level-1 category; choose one of: %(choices)s.",
            value=level1, choices="、".join(rules.categories))))
    elif level2 not in rules.level2_of(level1):
        problems.append(Problem("level2", _l(
            "“%(value)s” is not a level-2 category of %(parent)s; choose one of: %(choices)s.",
            value=level2, parent=level1, choices="、".join(rules.level2_of(level1)))))
    if not name:
        problems.append(Problem("name", _l("The indicator needs a name.")))
    for key, limit in MAX_LENGTHS.items():
        if len(_text(raw.get(key))) > limit:
            problems.append(Problem(key, _l("At most %(max)s characters are allowed.",
                                            max=limit)))
    out.update(level1=level1, level2=level2, name=name)
    comparator = parse_comparator(raw.get("comparator"))
    if comparator is None:
        problems.append(Problem("comparator", _l(
            "Choose one of: %(choices)s.",
            choices="、".join(str(v) for v in COMPARATOR_LABELS.values()))))
    out["comparator"] = comparator
    value = raw.get("target_value")
    text_value = _text(value)
    if not text_value:
        problems.append(Problem("target_value", _l("The target value is empty.")))
    elif comparator in (Comparator.GE, Comparator.LE, Comparator.EQ):
        number = parse_number(value)
        if number is None:
            problems.append(Problem("target_value", _l(
                "“%(value)s” is not a number; a quantitative indicator needs a number.",
                value=text_value)))
        else:
            text_value = _plain(number)
    elif comparator == Comparator.RANGE:
        match = _RANGE.match(text_value)
        low = parse_number(match.group(1)) if match else None
        high = parse_number(match.group(2)) if match else None
        if low is None or high is None or low >= high:
            problems.append(Problem("target_value", _l(
                "A range is written “low-high” with low below high, e.g. 90-100.")))
        else:
            text_value = f"{_plain(low)}-{_plain(high)}"
    out["target_value"] = text_value
    out["period_value"] = _text(raw.get("period_value")) or None
    unit = _text(raw.get("unit"))
    if comparator in QUANTITATIVE and not unit:
        problems.append(Problem("unit", _l("A quantitative indicator needs a unit.")))
    out["unit"] = unit or None
    weight = parse_number(raw.get("weight")) if _text(raw.get("weight")) else None
    if weight is None:
        problems.append(Problem("weight", _l("Enter the weight as a number.")))
    elif not Decimal(0) < weight <= rules.total_weight or weight.as_tuple().exponent < -2:
        problems.append(Problem("weight", _l(
            "The weight must be above 0 and at most %(max)s, with at most 2 decimal places.",
            max=rules.total_weight)))
    out["weight"] = weight.quantize(Decimal("0.01")) if weight is not None and \
        weight.as_tuple().exponent >= -2 else weight
    method = parse_method(raw.get("scoring_method")) or (
        DEFAULT_METHOD[comparator] if comparator else "")
    if methods is None:
        known = bool(method) and find_method(method, _resolver()) is not None
    elif method in methods:
        known = methods[method]
    else:
        known = methods[method] = bool(method) and find_method(method, _resolver()) is not None
    if method and not known:
        problems.append(Problem("scoring_method", _l("Unknown scoring method “%(method)s”.",
                                                     method=method)))
    out["scoring_method"] = method
    out["data_source"] = _text(raw.get("data_source")) or None
    return out, problems


def duplicate_keys(indicators: Sequence[Mapping[str, Any]]) -> list[int]:
    """Positions of indicators whose level1/level2/name repeats an earlier one."""
    seen: set[tuple[str, str, str]] = set()
    dups = []
    for i, ind in enumerate(indicators):
        key = (ind.get("level1"), ind.get("level2"), ind.get("name"))
        if key in seen:
            dups.append(i)
        seen.add(key)
    return dups


def weight_total(indicators: Sequence[Mapping[str, Any]]) -> Decimal:
    return sum((ind.get("weight") or Decimal(0) for ind in indicators), Decimal(0))


def weight_problem(indicators: Sequence[Mapping[str, Any]], rules: TargetRules) -> Problem | None:
    total = weight_total(indicators)
    if total != rules.total_weight:
        return Problem("weight", _l("The weights add up to %(sum)s, not %(expected)s.",
                                    sum=_plain(total), expected=_plain(rules.total_weight)))
    return None


def quality_problems(sheet, rules: TargetRules) -> list[Problem]:
    """Everything that keeps ``sheet`` (a TargetSheet) from being submitted, listed together."""
    inds = list(sheet.indicators)
    problems: list[Problem] = []
    if not (sheet.goal or "").strip():
        problems.append(Problem("goal", _l("The overall goal is empty.")))
    if not any(i.level1 == rules.output_level1 and i.comparator in QUANTITATIVE for i in inds):
        problems.append(Problem("", _l("At least one quantitative %(category)s indicator is "
                                       "needed.", category=rules.output_level1)))
    if not any(i.level1 == rules.benefit_level1 for i in inds):
        problems.append(Problem("", _l("At least one %(category)s indicator is needed.",
                                       category=rules.benefit_level1)))
    as_dicts = [{"level1": i.level1, "level2": i.level2, "name": i.name, "weight": i.weight}
                for i in inds]
    problem = weight_problem(as_dicts, rules)
    if problem is not None:
        problems.append(problem)
    for i in inds:
        where = f"{i.level1}/{i.level2}/{i.name}"
        if not (i.target_value or "").strip():
            problems.append(Problem("target_value", _l("%(indicator)s: the target value is "
                                                       "empty.", indicator=where)))
        if i.comparator in QUANTITATIVE and not (i.unit or "").strip():
            problems.append(Problem("unit", _l("%(indicator)s: a quantitative indicator needs "
                                               "a unit.", indicator=where)))
    kind = sheet.budget_item.kind.value if sheet.budget_item is not None else ""
    needed = rules.complete_kinds.get(kind, ())
    present = {i.level1 for i in inds}
    missing = [c for c in needed if c not in present]
    if missing:
        problems.append(Problem("", _l(
            "A sheet of this kind must cover %(needed)s; missing: %(missing)s.",
            needed="、".join(needed), missing="、".join(missing))))
    if has_app_context():
        from plugins.targets.hookspecs import target_checks

        for entry in target_checks(sheet):
            if isinstance(entry, tuple | list) and len(entry) == 2:
                problems.append(Problem(str(entry[0] or ""), entry[1]))
            elif entry:
                problems.append(Problem("", entry))
    return problems
