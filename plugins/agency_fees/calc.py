"""Fee quotes (服务费测算): inputs, lines with their formulas, and the built-in methods.

A calculation method is a function ``(rules, inputs, explain) -> list[FeeLine]`` found
through the ``jixiao_fee_method(method)`` hook; the two built-in ones,
``standard`` (effort, experts and direct costs, coefficients, management fee,
tax, minimum, sliding scale as a cap) and ``sliding_scale`` (the fee is the
sliding scale applied band by band, 分档累进), are this plugin's answers to the
same hook. Every line's amount is rounded to the fen (ROUND_HALF_UP) at the
end of the line, and later lines use the rounded amounts. A line keeps its
numbers (``args``); its label and formula are text made only when shown. With
``explain=False`` a method returns the total line alone: the what-if over a
year's quotes needs only totals, and then costs little more than the sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l

from core.money import MoneyError, parse_money
from plugins.agency_fees.schedule import OBJECT_KINDS, STAGES, FeeRules

FEN = Decimal("0.01")
HUNDRED = Decimal(100)
HALF = Decimal("0.5")
ZERO = Decimal("0.00")


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


#: line code -> (label, formula); both formatted with the line's args when shown
LINE_TEXT = {
    "staff": (_l("Staff effort: %(grade)s"),
              "%(days)s × %(rate)s"),
    "expert": (_l("Experts: %(title)s"),
               "%(rate)s × %(units)s × %(count)s"),
    "remote": (_l("Remote reviews: %(title)s"),
               "%(rate)s × %(pct)s%% × %(times)s × %(count)s"),
    "survey": (_l("Survey samples"), "%(samples)s × %(rate)s"),
    "direct": (_l("Direct cost: %(label)s"), "%(amount)s"),
    "labour": (_l("Effort and experts, subtotal"), "%(parts)s"),
    "coefficient": (_l("After complexity coefficients (%(kind)s, %(stage)s)"),
                    "%(labour)s × %(kind_coef)s × %(stage_coef)s"),
    "subtotal": (_l("Subtotal"), "%(parts)s"),
    "management": (_l("Management fee"), "%(subtotal)s × %(pct)s%%"),
    "tax": (_l("Tax"), "(%(subtotal)s + %(management)s) × %(pct)s%%"),
    "band": (_l("Sliding scale band %(n)s"), "(%(top)s - %(lower)s) × %(rate)s%%"),
    "band_fixed": (_l("Sliding scale band %(n)s"), "%(fixed)s"),
    "scaled": (_l("Sliding scale after complexity coefficients (%(kind)s, %(stage)s)"),
               "%(scale)s × %(kind_coef)s × %(stage_coef)s"),
    "minimum": (_l("Minimum fee applies"), "max(%(fee)s, %(minimum)s)"),
    "cap": (_l("Capped at the sliding scale"), "min(%(fee)s, %(cap)s)"),
    "total": (_l("Total"), "%(formula)s"),
}


def _total_formula(args: dict[str, Any]) -> str:
    text = str(args["fee"])
    if args.get("minimum") is not None:
        text = f"max({text}, {args['minimum']})"
    if args.get("cap") is not None:
        text = f"min({text}, {args['cap']})"
    return text


@dataclass(slots=True)
class FeeLine:
    """One line of a quote: a code, its numbers and the amount in yuan (to the fen).

    ``args`` hold the numbers; a tuple in them (the parts of a sum) is shown joined
    with " + ". Treat a line as read-only.
    """

    code: str
    amount: Decimal
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        from plugins.agency_fees.schedule import OBJECT_KIND_LABELS, STAGE_LABELS

        args = dict(self.args)
        for key, labels in (("kind", OBJECT_KIND_LABELS), ("stage", STAGE_LABELS)):
            if key in args:
                args[key] = str(labels.get(args[key], args[key]))
        return str(LINE_TEXT[self.code][0]) % args

    @property
    def formula(self) -> str:
        args = {k: " + ".join(map(str, v)) if isinstance(v, tuple) else v
                for k, v in self.args.items()}
        if self.code == "total" and "formula" not in args:
            args["formula"] = _total_formula(args)
        return LINE_TEXT[self.code][1] % args + f" = {self.amount}"

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "amount": str(self.amount),
                "args": {k: " + ".join(map(str, v)) if isinstance(v, tuple) else
                         (None if v is None else str(v)) for k, v in self.args.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeeLine:
        return cls(data["code"], Decimal(data["amount"]), dict(data.get("args") or {}))


class InputError(ValueError):
    """Quote inputs that cannot be used; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(slots=True)
class ExpertInput:
    title: str
    days: Decimal  # in half-day steps: 1.5 = one full day and one half day
    count: int = 1
    remote_reviews: int = 0


@dataclass(slots=True)
class CostInput:
    label: str
    amount: Decimal


@dataclass(slots=True)
class QuoteInputs:
    """What a quote is computed from (stored with the quote, so it can be recomputed)."""

    object_kind: str
    stage: str
    evaluated_amount: Decimal
    staff_days: dict[str, Decimal] = field(default_factory=dict)
    experts: tuple[ExpertInput, ...] = ()
    survey_samples: int = 0
    direct_costs: tuple[CostInput, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "object_kind": self.object_kind, "stage": self.stage,
            "evaluated_amount": str(self.evaluated_amount),
            "staff_days": {k: str(v) for k, v in self.staff_days.items()},
            "experts": [{"title": e.title, "days": str(e.days), "count": e.count,
                         "remote_reviews": e.remote_reviews} for e in self.experts],
            "survey_samples": self.survey_samples,
            "direct_costs": [{"label": c.label, "amount": str(c.amount)}
                             for c in self.direct_costs],
        }


def _number(value: Any, path: str, errors: dict[str, str], label: str, *,
            half_steps: bool = False) -> Decimal:
    if isinstance(value, float | bool) or value is None or value == "":
        errors[path] = str(_l("%(field)s: not a number.", field=label))
        return ZERO
    try:
        dec = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[path] = str(_l("%(field)s: not a number.", field=label))
        return ZERO
    if not dec.is_finite():
        errors[path] = str(_l("%(field)s: not a number.", field=label))
    elif dec < 0:
        errors[path] = str(_l("%(field)s: cannot be negative.", field=label))
    elif half_steps and (dec / HALF) % 1 != 0:
        errors[path] = str(_l("%(field)s: days are counted in half days (a multiple of 0.5).",
                              field=label))
    elif dec > 100000:
        errors[path] = str(_l("%(field)s: too large.", field=label))
    return dec


def _count(value: Any, path: str, errors: dict[str, str], label: str) -> int:
    dec = _number(value, path, errors, label)
    if path not in errors and dec != dec.to_integral_value():
        errors[path] = str(_l("%(field)s: a whole number.", field=label))
    return int(dec) if path not in errors else 0


def parse_inputs(data: Any, rules: FeeRules) -> QuoteInputs:
    """Check quote inputs against the schedule's rules; raises ``InputError``."""
    if not isinstance(data, dict):
        raise InputError({"inputs": str(_l("The quote inputs must be a JSON object."))})
    errors: dict[str, str] = {}
    kind = data.get("object_kind") or "project"
    if kind not in OBJECT_KINDS:
        errors["object_kind"] = str(_l("Object kind: one of %(names)s.",
                                       names=", ".join(OBJECT_KINDS)))
    stage = data.get("stage") or ""
    if stage not in STAGES:
        errors["stage"] = str(_l("Stage: one of %(names)s.", names=", ".join(STAGES)))
    try:
        amount = parse_money(data.get("evaluated_amount") or "0")
    except MoneyError as exc:
        errors["evaluated_amount"] = str(_l("Evaluated amount: %(problem)s", problem=exc))
        amount = ZERO
    staff: dict[str, Decimal] = {}
    raw_staff = data.get("staff_days") or {}
    if not isinstance(raw_staff, dict):
        errors["staff_days"] = str(_l("Staff days: expected grades with person-days."))
        raw_staff = {}
    for grade, days in raw_staff.items():
        path = f"staff_days.{grade}"
        if grade not in rules.staff_day_rates:
            errors[path] = str(_l("Staff days: unknown grade %(grade)s (known: %(known)s).",
                                  grade=grade, known=", ".join(rules.staff_day_rates) or "-"))
            continue
        value = _number(days, path, errors, str(_l("Staff days %(grade)s", grade=grade)),
                        half_steps=True)
        if value:
            staff[grade] = value
    experts = []
    raw_experts = data.get("experts") or []
    if not isinstance(raw_experts, list):
        errors["experts"] = str(_l("Experts: expected a list."))
        raw_experts = []
    for n, raw in enumerate(raw_experts, start=1):
        path = f"experts.{n}"
        if not isinstance(raw, dict):
            errors[path] = str(_l("Expert %(n)s: expected title, days and count.", n=n))
            continue
        title = str(raw.get("title") or "")
        if title not in rules.expert_day_rates:
            errors[f"{path}.title"] = str(_l(
                "Expert %(n)s: unknown title %(title)s (known: %(known)s).", n=n,
                title=title or "-", known=", ".join(rules.expert_day_rates) or "-"))
        days = _number(raw.get("days", "0"), f"{path}.days", errors,
                       str(_l("Expert %(n)s days", n=n)), half_steps=True)
        count = _count(raw.get("count", 1), f"{path}.count", errors,
                       str(_l("Expert %(n)s count", n=n)))
        remote = _count(raw.get("remote_reviews", 0), f"{path}.remote_reviews", errors,
                        str(_l("Expert %(n)s remote reviews", n=n)))
        experts.append(ExpertInput(title, days, count, remote))
    samples = _count(data.get("survey_samples", 0), "survey_samples", errors,
                     str(_l("Survey samples")))
    costs = []
    raw_costs = data.get("direct_costs") or []
    if not isinstance(raw_costs, list):
        errors["direct_costs"] = str(_l("Direct costs: expected a list."))
        raw_costs = []
    for n, raw in enumerate(raw_costs, start=1):
        path = f"direct_costs.{n}"
        label = str((raw or {}).get("label") or "").strip() if isinstance(raw, dict) else ""
        if not label:
            errors[f"{path}.label"] = str(_l("Direct cost %(n)s: name the cost.", n=n))
        try:
            value = parse_money(raw.get("amount") if isinstance(raw, dict) else None)
        except MoneyError as exc:
            errors[f"{path}.amount"] = str(_l("Direct cost %(n)s amount: %(problem)s", n=n,
                                              problem=exc))
            value = ZERO
        costs.append(CostInput(label, value))
    if errors:
        raise InputError(errors)
    return QuoteInputs(kind, stage, amount, staff, tuple(experts), samples, tuple(costs))


def inputs_from_json(data: dict[str, Any]) -> QuoteInputs:
    """Stored inputs back into ``QuoteInputs`` (they were checked when stored)."""
    return QuoteInputs(
        data["object_kind"], data["stage"], Decimal(data["evaluated_amount"]),
        {k: Decimal(v) for k, v in data.get("staff_days", {}).items()},
        tuple(ExpertInput(e["title"], Decimal(e["days"]), int(e["count"]),
                          int(e["remote_reviews"])) for e in data.get("experts", ())),
        int(data.get("survey_samples", 0)),
        tuple(CostInput(c["label"], Decimal(c["amount"])) for c in data.get("direct_costs", ())))


# --- the pieces ----------------------------------------------------------------------------

def expert_units(rules: FeeRules, days: Decimal) -> Decimal:
    """Day-rate units for one expert: full rate up to the reduced day, then the reduced
    share; a trailing half day is the half-day share of that day's rate."""
    whole = int(days)
    full_days = min(whole, rules.expert_later_from_day - 1)
    units = full_days + (whole - full_days) * rules.later_share
    if days != whole:
        units += rules.half_share * (rules.later_share
                                     if whole + 1 >= rules.expert_later_from_day else 1)
    return units


def _bands(rules: FeeRules, amount: Decimal):
    """(number, band, top of the part in it, amount) of each band the amount reaches."""
    for n, band in enumerate(rules.bands, start=1):
        if amount <= band.lower and not (n == 1 and band.fixed is not None):
            return
        if band.fixed is not None:
            yield n, band, None, band.fixed
            continue
        top = amount if band.upper is None or amount < band.upper else band.upper
        yield n, band, top, fen((top - band.lower) * band.rate_pct / HUNDRED)


def scale_amount(rules: FeeRules, amount: Decimal) -> Decimal:
    """The sliding scale (分档累进) for ``amount``: the sum of its band lines."""
    total = ZERO
    for _n, _band, _top, value in _bands(rules, amount):
        total += value
    return total


def scale_lines(rules: FeeRules, amount: Decimal) -> list[FeeLine]:
    """The sliding scale band by band: a fixed fee or rate × the part of the amount in it."""
    return [FeeLine("band_fixed", value, {"n": n, "fixed": value}) if top is None else
            FeeLine("band", value, {"n": n, "top": top, "lower": band.lower,
                                    "rate": band.rate_pct})
            for n, band, top, value in _bands(rules, amount)]


def _finish(rules: FeeRules, fee: Decimal, lines: list[FeeLine], cap: Decimal | None,
            explain: bool = True) -> list[FeeLine]:
    total = {"fee": fee, "minimum": None, "cap": None}
    if fee < rules.minimum_fee:
        if explain:
            lines.append(FeeLine("minimum", rules.minimum_fee,
                                 {"fee": fee, "minimum": rules.minimum_fee}))
        total["minimum"] = fee = rules.minimum_fee
    if cap is not None and fee > cap:
        if explain:
            lines.append(FeeLine("cap", cap, {"fee": fee, "cap": cap}))
        total["cap"] = fee = cap
    lines.append(FeeLine("total", fee, total))
    return lines


def standard(rules: FeeRules, inputs: QuoteInputs, explain: bool = True) -> list[FeeLine]:
    """Effort + experts, × coefficients, + direct costs, + management fee, + tax; then the
    minimum fee and (when the scale is a cap) the sliding scale as the upper limit.

    ``explain=False`` (the what-if over a year's quotes) skips every line but the total.
    """
    lines: list[FeeLine] = []
    add = lines.append
    labour = ZERO
    parts = []
    for grade, days in inputs.staff_days.items():
        rate = rules.staff_day_rates[grade]
        amount = (days * rate).quantize(FEN, ROUND_HALF_UP)
        labour += amount
        if explain:
            parts.append(amount)
            add(FeeLine("staff", amount, {"grade": grade, "days": days, "rate": rate}))
    for e in inputs.experts:
        rate = rules.expert_day_rates[e.title]
        if e.days:
            units = expert_units(rules, e.days)
            amount = (rate * units * e.count).quantize(FEN, ROUND_HALF_UP)
            labour += amount
            if explain:
                parts.append(amount)
                add(FeeLine("expert", amount, {"title": e.title, "rate": rate,
                                               "units": units, "count": e.count}))
        if e.remote_reviews:
            amount = (rate * rules.remote_share * e.remote_reviews * e.count).quantize(
                FEN, ROUND_HALF_UP)
            labour += amount
            if explain:
                parts.append(amount)
                add(FeeLine("remote", amount, {"title": e.title, "rate": rate,
                                               "pct": rules.remote_review_pct,
                                               "times": e.remote_reviews, "count": e.count}))
    if parts:
        add(FeeLine("labour", labour, {"parts": tuple(parts)}))
    kind_coef = rules.kind_coefficients[inputs.object_kind]
    stage_coef = rules.stage_coefficients[inputs.stage]
    subtotal = (labour * kind_coef * stage_coef).quantize(FEN, ROUND_HALF_UP)
    parts = [subtotal]
    if explain:
        add(FeeLine("coefficient", subtotal, {
            "labour": labour, "kind": inputs.object_kind, "stage": inputs.stage,
            "kind_coef": kind_coef, "stage_coef": stage_coef}))
    if inputs.survey_samples:
        amount = (inputs.survey_samples * rules.survey_per_sample).quantize(FEN, ROUND_HALF_UP)
        subtotal += amount
        if explain:
            parts.append(amount)
            add(FeeLine("survey", amount, {"samples": inputs.survey_samples,
                                           "rate": rules.survey_per_sample}))
    for c in inputs.direct_costs:
        subtotal += c.amount
        if explain:
            parts.append(c.amount)
            add(FeeLine("direct", c.amount, {"label": c.label, "amount": c.amount}))
    management = (subtotal * rules.management_rate).quantize(FEN, ROUND_HALF_UP)
    tax = ((subtotal + management) * rules.tax_rate).quantize(FEN, ROUND_HALF_UP)
    if explain:
        add(FeeLine("subtotal", subtotal, {"parts": tuple(parts)}))
        add(FeeLine("management", management, {"subtotal": subtotal,
                                               "pct": rules.management_pct}))
        add(FeeLine("tax", tax, {"subtotal": subtotal, "management": management,
                                 "pct": rules.tax_pct}))
    cap = scale_amount(rules, inputs.evaluated_amount) if rules.scale_use == "cap" else None
    return _finish(rules, subtotal + management + tax, lines, cap, explain)


def sliding_scale(rules: FeeRules, inputs: QuoteInputs, explain: bool = True,
                  ) -> list[FeeLine]:
    """The sliding scale as the fee, × complexity coefficients, at least the minimum fee."""
    lines = scale_lines(rules, inputs.evaluated_amount)
    scale = sum((line.amount for line in lines), ZERO)
    kind_coef = rules.kind_coefficients[inputs.object_kind]
    stage_coef = rules.stage_coefficients[inputs.stage]
    scaled = (scale * kind_coef * stage_coef).quantize(FEN, ROUND_HALF_UP)
    lines.append(FeeLine("scaled", scaled, {
        "scale": scale, "kind": inputs.object_kind, "stage": inputs.stage,
        "kind_coef": kind_coef, "stage_coef": stage_coef}))
    return _finish(rules, scaled, lines if explain else [], None, explain)


BUILTIN = {"standard": standard, "sliding_scale": sliding_scale}
