"""The rule data of a fee schedule (收费标准), checked and parsed into ``FeeRules``.

A schedule's rules are stored as a JSON object whose numbers are decimal
strings (``"2000.00"``), so that a quote can be recomputed exactly years later.
``parse_rules`` refuses anything doubtful with a message per field (a dotted
path such as ``staff_day_rates.senior`` or ``scale.bands.2.upper``); it never
rounds. ``flatten``/``unflatten`` turn the rules into (key, value) rows for the
Excel sheet and for the side-by-side comparison of two versions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from core.money import MoneyError, parse_money

OBJECT_KINDS = ("project", "policy", "department")
STAGES = ("pre_assessment", "target_review", "monitoring", "evaluation", "re_evaluation")
SCALE_USES = ("cap", "check")
OBJECT_KIND_LABELS = {"project": _l("Project"), "policy": _l("Fiscal policy"),
                      "department": _l("Department overall expenditure")}
STAGE_LABELS = {"pre_assessment": _l("Pre-assessment"), "target_review": _l("Target review"),
                "monitoring": _l("Monitoring"), "evaluation": _l("Evaluation"),
                "re_evaluation": _l("Re-evaluation")}


class RulesError(ValueError):
    """Rule data that cannot be used; ``errors`` maps each field path to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Band:
    """One band of the sliding scale (分档累进): [lower, upper) of the evaluated amount."""

    lower: Decimal
    upper: Decimal | None
    fixed: Decimal | None
    rate_pct: Decimal | None


@dataclass(frozen=True)
class FeeRules:
    """The parsed rules of one schedule version; percentages are in per cent (60 = 60 %)."""

    method: str
    staff_day_rates: dict[str, Decimal]
    expert_day_rates: dict[str, Decimal]
    expert_half_day_pct: Decimal
    expert_later_day_pct: Decimal
    expert_later_from_day: int
    remote_review_pct: Decimal
    survey_per_sample: Decimal
    kind_coefficients: dict[str, Decimal]
    stage_coefficients: dict[str, Decimal]
    management_pct: Decimal
    tax_pct: Decimal
    minimum_fee: Decimal
    scale_use: str | None
    scale_tolerance_pct: Decimal
    bands: tuple[Band, ...]
    contract_tolerance_pct: Decimal
    #: the percentages as fractions, worked out once (quoting 1,000 engagements uses them)
    half_share: Decimal = Decimal(0)
    later_share: Decimal = Decimal(0)
    remote_share: Decimal = Decimal(0)
    management_rate: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)


#: the defaults a new schedule starts from (docs/domain.md "Service fees"; all configurable)
DEFAULTS: dict[str, Any] = {
    "method": "standard",
    "staff_day_rates": {},
    "expert_day_rates": {},
    "expert_half_day_pct": "60",
    "expert_later_day_pct": "50",
    "expert_later_from_day": "3",
    "remote_review_pct": "50",
    "survey_per_sample": "0.00",
    "kind_coefficients": {k: "1" for k in OBJECT_KINDS},
    "stage_coefficients": {s: "1" for s in STAGES},
    "management_pct": "0",
    "tax_pct": "0",
    "minimum_fee": "0.00",
    "scale": {"use": None, "tolerance_pct": "20", "bands": []},
    "contract_tolerance_pct": "10",
}

FIELD_LABELS = {
    "method": _l("Calculation method"),
    "staff_day_rates": _l("Staff day rate"),
    "expert_day_rates": _l("Expert day rate"),
    "expert_half_day_pct": _l("Expert half day (percentage of the day rate)"),
    "expert_later_day_pct": _l("Expert later days (percentage of the day rate)"),
    "expert_later_from_day": _l("Reduced expert rate from day"),
    "remote_review_pct": _l("Remote review per occasion (percentage of the day rate)"),
    "survey_per_sample": _l("Survey fee per sample (yuan)"),
    "kind_coefficients": _l("Complexity coefficient by object kind"),
    "stage_coefficients": _l("Complexity coefficient by stage"),
    "management_pct": _l("Management fee (%)"),
    "tax_pct": _l("Tax (%)"),
    "minimum_fee": _l("Minimum fee (yuan)"),
    "scale.use": _l("Sliding scale used as"),
    "scale.tolerance_pct": _l("Sliding scale tolerance (±%)"),
    "scale.bands": _l("Sliding scale band"),
    "contract_tolerance_pct": _l("Contract tolerance (±%)"),
}


def field_label(path: str) -> str:
    """A person's name for a dotted field path: "Staff day rate senior", "… band 2 upper"."""
    head, _sep, rest = path.partition(".")
    if head == "scale":
        sub, _sep, rest = rest.partition(".")
        head, rest = f"scale.{sub}", rest
    base = str(FIELD_LABELS.get(head, head))
    return f"{base} {rest}".strip()


def _decimal(value: Any, path: str, errors: dict[str, str], *, places: int = 4,
             positive: bool = False, maximum: Decimal | None = None) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool) or value is None:
        errors[path] = str(_l("%(field)s: not a number.", field=field_label(path)))
        return Decimal(0)
    try:
        dec = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[path] = str(_l("%(field)s: not a number.", field=field_label(path)))
        return Decimal(0)
    if not dec.is_finite():
        errors[path] = str(_l("%(field)s: not a number.", field=field_label(path)))
    elif dec < 0 or (positive and dec == 0):
        errors[path] = str(_l("%(field)s: must be more than zero.", field=field_label(path))
                           if positive else
                           _l("%(field)s: cannot be negative.", field=field_label(path)))
    elif isinstance(dec.as_tuple().exponent, int) and dec.as_tuple().exponent < -places:
        errors[path] = str(_l("%(field)s: at most %(n)s decimal places.",
                              field=field_label(path), n=places))
    elif maximum is not None and dec > maximum:
        errors[path] = str(_l("%(field)s: at most %(max)s.", field=field_label(path),
                              max=maximum))
    return dec


def _money(value: Any, path: str, errors: dict[str, str]) -> Decimal:
    try:
        return parse_money(value)
    except MoneyError as exc:
        errors[path] = f"{field_label(path)}: {exc}"
        return Decimal("0.00")


def _rates(data: Any, path: str, errors: dict[str, str]) -> dict[str, Decimal]:
    if data in (None, ""):
        return {}
    if not isinstance(data, dict):
        errors[path] = str(_l("%(field)s: expected names with amounts.", field=field_label(path)))
        return {}
    out = {}
    for name, value in data.items():
        key = str(name).strip()
        if not key:
            errors[path] = str(_l("%(field)s: a name is empty.", field=field_label(path)))
            continue
        out[key] = _money(value, f"{path}.{key}", errors)
    return out


def _coefficients(data: Any, path: str, names: tuple[str, ...],
                  errors: dict[str, str]) -> dict[str, Decimal]:
    data = data or {}
    if not isinstance(data, dict):
        errors[path] = str(_l("%(field)s: expected names with numbers.", field=field_label(path)))
        return {}
    unknown = sorted(set(data) - set(names))
    if unknown:
        errors[path] = str(_l("%(field)s: unknown names %(names)s.", field=field_label(path),
                              names=", ".join(unknown)))
    return {n: _decimal(data.get(n, "1"), f"{path}.{n}", errors, positive=True) for n in names}


def _bands(data: Any, errors: dict[str, str]) -> tuple[Band, ...]:
    if data in (None, ""):
        return ()
    if not isinstance(data, list):
        errors["scale.bands"] = str(_l("%(field)s: expected a list.",
                                       field=field_label("scale.bands")))
        return ()
    bands = []
    expected = Decimal("0.00")
    for n, raw in enumerate(data, start=1):
        path = f"scale.bands.{n}"
        if not isinstance(raw, dict):
            errors[path] = str(_l("%(field)s: expected lower, upper and a fee or a rate.",
                                  field=field_label(path)))
            continue
        lower = _money(raw.get("lower", ""), f"{path}.lower", errors)
        upper = None if raw.get("upper") in (None, "") else \
            _money(raw["upper"], f"{path}.upper", errors)
        fixed = None if raw.get("fixed") in (None, "") else \
            _money(raw["fixed"], f"{path}.fixed", errors)
        rate = None if raw.get("rate_pct") in (None, "") else \
            _decimal(raw["rate_pct"], f"{path}.rate_pct", errors, places=6,
                     maximum=Decimal(100))
        if (fixed is None) == (rate is None):
            errors[path] = str(_l("Band %(n)s: give either a fixed fee or a rate, not both "
                                  "or neither.", n=n))
        if lower < expected and f"{path}.lower" not in errors:
            errors[f"{path}.lower"] = str(_l("Band %(n)s overlaps the band before it (it starts "
                                             "at %(lower)s, the band before ends at "
                                             "%(expected)s).", n=n, lower=lower,
                                             expected=expected))
        elif lower > expected and f"{path}.lower" not in errors:
            errors[f"{path}.lower"] = str(_l("Band %(n)s leaves a gap: it starts at %(lower)s "
                                             "but the band before ends at %(expected)s.",
                                             n=n, lower=lower, expected=expected))
        if upper is not None and upper <= lower:
            errors[f"{path}.upper"] = str(_l("Band %(n)s: the upper bound must be above the "
                                             "lower bound.", n=n))
        if upper is None and n != len(data):
            errors[f"{path}.upper"] = str(_l("Band %(n)s: only the last band may be open "
                                             "(no upper bound).", n=n))
        if upper is not None and n == len(data):
            errors[f"{path}.upper"] = str(_l("Band %(n)s: the last band must be open (no upper "
                                             "bound) so that every amount is covered.", n=n))
        bands.append(Band(lower, upper, fixed, rate))
        expected = upper if upper is not None else lower
    return tuple(bands)


BUILTIN_METHODS = ("standard", "sliding_scale")


def parse_rules(data: Any, known_method: Callable[[str], bool] = BUILTIN_METHODS.__contains__,
                ) -> FeeRules:
    """Check rule data and parse it; raises ``RulesError`` with every problem found.

    ``known_method(name)`` tells whether a calculation method of that name exists
    (the service asks the ``jixiao_fee_method`` hook).
    """
    errors: dict[str, str] = {}
    if not isinstance(data, dict):
        raise RulesError({"rules": str(_l("The rules must be a JSON object."))})
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        errors["rules"] = str(_l("Unknown rule fields: %(names)s.", names=", ".join(unknown)))
    get = {**DEFAULTS, **data}.get
    method = str(get("method") or "")
    if not method or not known_method(method):
        errors["method"] = str(_l("%(field)s: unknown method %(name)s.",
                                  field=field_label("method"), name=method or "-"))
    scale = get("scale") or {}
    if not isinstance(scale, dict):
        errors["scale"] = str(_l("The sliding scale must be an object with use, tolerance_pct "
                                 "and bands."))
        scale = {}
    use = scale.get("use") or None
    if use is not None and use not in SCALE_USES:
        errors["scale.use"] = str(_l("%(field)s: cap or check.", field=field_label("scale.use")))
    later_from = _decimal(get("expert_later_from_day"), "expert_later_from_day", errors,
                          places=0, positive=True)
    rules = FeeRules(
        method=method,
        staff_day_rates=_rates(get("staff_day_rates"), "staff_day_rates", errors),
        expert_day_rates=_rates(get("expert_day_rates"), "expert_day_rates", errors),
        expert_half_day_pct=_decimal(get("expert_half_day_pct"), "expert_half_day_pct", errors,
                                     maximum=Decimal(100)),
        expert_later_day_pct=_decimal(get("expert_later_day_pct"), "expert_later_day_pct",
                                      errors, maximum=Decimal(100)),
        expert_later_from_day=int(later_from),
        remote_review_pct=_decimal(get("remote_review_pct"), "remote_review_pct", errors,
                                   maximum=Decimal(100)),
        survey_per_sample=_money(get("survey_per_sample"), "survey_per_sample", errors),
        kind_coefficients=_coefficients(get("kind_coefficients"), "kind_coefficients",
                                        OBJECT_KINDS, errors),
        stage_coefficients=_coefficients(get("stage_coefficients"), "stage_coefficients",
                                         STAGES, errors),
        management_pct=_decimal(get("management_pct"), "management_pct", errors,
                                maximum=Decimal(100)),
        tax_pct=_decimal(get("tax_pct"), "tax_pct", errors, maximum=Decimal(100)),
        minimum_fee=_money(get("minimum_fee"), "minimum_fee", errors),
        scale_use=use,
        scale_tolerance_pct=_decimal(scale.get("tolerance_pct", "20"), "scale.tolerance_pct",
                                     errors, maximum=Decimal(1000)),
        bands=_bands(scale.get("bands"), errors),
        contract_tolerance_pct=_decimal(get("contract_tolerance_pct"), "contract_tolerance_pct",
                                        errors, maximum=Decimal(1000)),
    )
    rules = replace(rules, half_share=rules.expert_half_day_pct / 100,
                    later_share=rules.expert_later_day_pct / 100,
                    remote_share=rules.remote_review_pct / 100,
                    management_rate=rules.management_pct / 100, tax_rate=rules.tax_pct / 100)
    if method == "sliding_scale" and not rules.bands and "scale.bands" not in errors:
        errors["scale.bands"] = str(_l("The sliding-scale method needs at least one band."))
    if method == "standard" and not (rules.staff_day_rates or rules.expert_day_rates):
        errors.setdefault("staff_day_rates", str(_l(
            "The schedule has no rates: give at least one staff or expert day rate.")))
    if use is not None and not rules.bands and "scale.bands" not in errors:
        errors["scale.bands"] = str(_l("A sliding scale used as a cap or a cross-check needs "
                                       "at least one band."))
    if errors:
        raise RulesError(errors)
    return rules


# --- rows: Excel and side-by-side comparison -------------------------------------------------

def flatten(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The rules as (dotted key, text) rows, in a stable order; bands as scale.bands.N.field."""
    rows: list[tuple[str, str]] = []
    merged = {**DEFAULTS, **data}
    for key in DEFAULTS:
        value = merged.get(key)
        if key == "scale":
            value = value or {}
            rows.append(("scale.use", str(value.get("use") or "")))
            rows.append(("scale.tolerance_pct", str(value.get("tolerance_pct", ""))))
            for n, band in enumerate(value.get("bands") or [], start=1):
                for part in ("lower", "upper", "fixed", "rate_pct"):
                    rows.append((f"scale.bands.{n}.{part}", str(band.get(part) or "")))
        elif isinstance(value, dict):
            rows.extend((f"{key}.{name}", str(v)) for name, v in value.items())
        else:
            rows.append((key, "" if value is None else str(value)))
    return rows


class RuleKeyError(ValueError):
    """A row's key does not fit the layout of the rules (``unflatten``)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


def unflatten(rows: list[tuple[str, str]]) -> dict[str, Any]:
    """The inverse of ``flatten``; unknown keys are kept so that ``parse_rules`` names them.

    A key that cannot fit — a group name on its own beside its entries
    (``staff_day_rates`` and ``staff_day_rates.senior``), ``scale`` or
    ``scale.bands`` without a band field, one level too deep — raises
    ``RuleKeyError`` naming it, rather than being dropped or overwriting the group.
    """
    data: dict[str, Any] = {"scale": {"use": None, "tolerance_pct": "20", "bands": []}}
    bands: dict[int, dict[str, str]] = {}
    for key, value in rows:
        value = (value or "").strip()
        parts = key.strip().split(".")
        if parts[0] == "scale":
            if len(parts) == 4 and parts[1] == "bands" and parts[2].isdigit():
                bands.setdefault(int(parts[2]), {})[parts[3]] = value
            elif len(parts) == 2 and parts[1] != "bands":
                data["scale"][parts[1]] = value or None
            else:
                raise RuleKeyError(key)
        elif len(parts) == 2 and isinstance(data.setdefault(parts[0], {}), dict):
            data[parts[0]][parts[1]] = value
        elif len(parts) == 1 and not isinstance(data.get(parts[0]), dict):
            data[parts[0]] = value
        else:
            raise RuleKeyError(key)
    data["scale"]["bands"] = [bands[n] for n in sorted(bands)]
    return data


def to_json(rules: FeeRules) -> dict[str, Any]:
    """The stored form of parsed rules (decimal strings)."""
    def band(b: Band) -> dict[str, str | None]:
        return {"lower": str(b.lower), "upper": None if b.upper is None else str(b.upper),
                "fixed": None if b.fixed is None else str(b.fixed),
                "rate_pct": None if b.rate_pct is None else str(b.rate_pct)}

    return {
        "method": rules.method,
        "staff_day_rates": {k: str(v) for k, v in rules.staff_day_rates.items()},
        "expert_day_rates": {k: str(v) for k, v in rules.expert_day_rates.items()},
        "expert_half_day_pct": str(rules.expert_half_day_pct),
        "expert_later_day_pct": str(rules.expert_later_day_pct),
        "expert_later_from_day": str(rules.expert_later_from_day),
        "remote_review_pct": str(rules.remote_review_pct),
        "survey_per_sample": str(rules.survey_per_sample),
        "kind_coefficients": {k: str(v) for k, v in rules.kind_coefficients.items()},
        "stage_coefficients": {k: str(v) for k, v in rules.stage_coefficients.items()},
        "management_pct": str(rules.management_pct),
        "tax_pct": str(rules.tax_pct),
        "minimum_fee": str(rules.minimum_fee),
        "scale": {"use": rules.scale_use, "tolerance_pct": str(rules.scale_tolerance_pct),
                  "bands": [band(b) for b in rules.bands]},
        "contract_tolerance_pct": str(rules.contract_tolerance_pct),
    }
