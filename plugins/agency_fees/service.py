"""Schedules, quotes, engagement fees, what-if and reconciliation: the plugin's services.

Views (admin, API) call these and commit; nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.extensions import db
from core.models import State, utcnow
from core.permissions import ADMINS, FINANCE
from core.plugins import hooks
from core.scope import current_principal
from core.services import review
from core.workflow import Workflow, WorkflowError
from plugins.agency_fees.calc import (
    HUNDRED,
    ZERO,
    FeeLine,
    QuoteInputs,
    fen,
    inputs_from_json,
    parse_inputs,
    scale_amount,
)
from plugins.agency_fees.hookspecs import fee_method
from plugins.agency_fees.models import FeeQuote, FeeSchedule, ScheduleStatus
from plugins.agency_fees.schedule import STAGES, FeeRules, RulesError, parse_rules, to_json

#: deviations beyond tolerance: a written reason, then finance approval
QUOTE_WORKFLOW = Workflow("fee_quote", FINANCE, submitters=ADMINS)


class FeeError(ValueError):
    """Refused: ``errors`` maps each field to its message; nothing was written."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# --- methods and rules ------------------------------------------------------------------------

def method_for(name: str):
    """The calculator of a method name, from the ``jixiao_fee_method`` hook (None: unknown)."""
    return fee_method(name)


def known_method(name: str) -> bool:
    return method_for(name) is not None


def rules_of(schedule: FeeSchedule) -> FeeRules:
    return parse_rules(schedule.rules, known_method)


@dataclass(frozen=True)
class Quote:
    lines: list[FeeLine]
    total: Decimal
    scale_fee: Decimal | None  # the sliding scale for the evaluated amount, if any
    #: (total - scale) / scale in per cent when the scale is a cross-check
    scale_deviation_pct: Decimal | None = None
    outside_scale: bool = False
    notes: list[str] = field(default_factory=list)


def compute(rules: FeeRules, inputs: QuoteInputs, calculator=None) -> Quote:
    """Quote ``inputs`` under ``rules``: every line, the total and the scale cross-check."""
    lines = (calculator or method_for(rules.method))(rules, inputs)
    total = lines[-1].amount
    scale = None
    if rules.bands:
        scale = scale_amount(rules, inputs.evaluated_amount)
    deviation, outside = None, False
    if rules.scale_use == "check" and scale:
        deviation = fen((total - scale) / scale * HUNDRED)
        outside = abs(deviation) > rules.scale_tolerance_pct
    return Quote(lines, total, scale, deviation, outside)


def quote_json(schedule: FeeSchedule, inputs: QuoteInputs, quote: Quote) -> dict[str, Any]:
    return {
        "schedule": {"id": schedule.id, "code": schedule.code, "revision": schedule.revision,
                     "name": schedule.name, "version": schedule.label},
        "inputs": inputs.to_json(),
        "lines": [{"code": ln.code, "label": ln.label, "formula": ln.formula,
                   "amount": str(ln.amount)} for ln in quote.lines],
        "total": str(quote.total),
        "scale_fee": None if quote.scale_fee is None else str(quote.scale_fee),
        "scale_deviation_pct": None if quote.scale_deviation_pct is None
        else str(quote.scale_deviation_pct),
        "outside_scale": quote.outside_scale,
    }


# --- schedules --------------------------------------------------------------------------------

def schedule_for(code: str | None, on: date) -> FeeSchedule | None:
    """The schedule in force on ``on`` (of ``code`` if given): active or since retired."""
    stmt = select(FeeSchedule).where(
        FeeSchedule.status.in_([ScheduleStatus.ACTIVE, ScheduleStatus.RETIRED]),
        FeeSchedule.valid_from <= on,
        (FeeSchedule.valid_to.is_(None)) | (FeeSchedule.valid_to >= on))
    if code:
        stmt = stmt.where(FeeSchedule.code == code)
    return db.session.scalars(stmt.order_by(FeeSchedule.valid_from.desc(),
                                            FeeSchedule.id.desc())).first()


def _date(value: Any, path: str, errors: dict[str, str], label) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[path] = str(_l("%(field)s: a date such as 2026-01-01.", field=label))
        return None


def check_header(data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Code, name and validity of a schedule from JSON or Excel."""
    code = str(data.get("code") or "").strip()
    if not code or len(code) > 40:
        errors["code"] = str(_l("Code: required, at most 40 characters."))
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = str(_l("Name: required, at most 200 characters."))
    valid_from = _date(data.get("valid_from"), "valid_from", errors, _l("Valid from"))
    if valid_from is None and "valid_from" not in errors:
        errors["valid_from"] = str(_l("Valid from: required."))
    valid_to = _date(data.get("valid_to"), "valid_to", errors, _l("Valid to"))
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = str(_l("Valid to: before the start."))
    return {"code": code, "name": name, "valid_from": valid_from, "valid_to": valid_to,
            "note": str(data.get("note") or "")}


def checked_rules(data: Any, errors: dict[str, str]) -> dict[str, Any]:
    try:
        return to_json(parse_rules(data, known_method))
    except RulesError as exc:
        errors.update({f"rules.{k}" if k != "rules" else k: v for k, v in exc.errors.items()})
        return {}


def create_draft(data: dict[str, Any]) -> FeeSchedule:
    """A new draft revision of ``data["code"]`` (JSON import, Excel import, API)."""
    if not isinstance(data, dict):
        raise FeeError({"schedule": str(_l("The schedule must be a JSON object."))})
    errors: dict[str, str] = {}
    header = check_header(data, errors)
    rules = checked_rules(data.get("rules"), errors)
    if errors:
        raise FeeError(errors)
    last = db.session.scalar(select(func.max(FeeSchedule.revision))
                             .where(FeeSchedule.code == header["code"])) or 0
    schedule = FeeSchedule(**header, revision=last + 1, rules=rules,
                           status=ScheduleStatus.DRAFT)
    db.session.add(schedule)
    db.session.flush()
    return schedule


def export_json(schedule: FeeSchedule) -> dict[str, Any]:
    return {"code": schedule.code, "revision": schedule.revision, "name": schedule.name,
            "status": schedule.status.value, "valid_from": schedule.valid_from.isoformat(),
            "valid_to": schedule.valid_to.isoformat() if schedule.valid_to else None,
            "note": schedule.note, "rules": schedule.rules}


def editable_problem(schedule: FeeSchedule) -> str | None:
    if schedule.status != ScheduleStatus.DRAFT:
        return str(_l("Schedule %(label)s is %(status)s and cannot be changed; create a new "
                      "draft to supersede it.", label=schedule.label,
                      status=str({"active": _l("In force"), "retired": _l("Retired")}
                                 [schedule.status.value])))
    return None


def activate(schedule: FeeSchedule, user) -> None:
    """Put a draft in force from its ``valid_from``; the active revision of the code retires."""
    problem = editable_problem(schedule)
    if problem:
        raise FeeError({"status": problem})
    errors: dict[str, str] = {}
    checked_rules(schedule.rules, errors)
    if errors:
        raise FeeError(errors)
    for old in db.session.scalars(select(FeeSchedule).where(
            FeeSchedule.code == schedule.code, FeeSchedule.status == ScheduleStatus.ACTIVE)):
        if old.valid_from >= schedule.valid_from:
            raise FeeError({"valid_from": str(_l(
                "Valid from: must be after the start of the active revision %(label)s "
                "(%(start)s).", label=old.label, start=old.valid_from))})
        old.status = ScheduleStatus.RETIRED
        old.valid_to = schedule.valid_from - timedelta(days=1)
    schedule.status = ScheduleStatus.ACTIVE
    schedule.activated_at = utcnow()
    schedule.activated_by_id = getattr(user, "id", None)
    db.session.flush()


# --- engagement quotes -----------------------------------------------------------------------

def commissioned(**filters) -> list:
    """The engagements this user's org subtree commissioned (``contracts.engagements`` filters).

    The agencies plugin also shows an engagement, read-only, to the units it
    assesses; quoting its fee is the commissioning party's business only.
    """
    principal = current_principal()
    return [e for e in hooks().engagements(**filters)
            if principal is None or principal.covers(e.org_unit_id)]


def engagement(engagement_id: int):
    """The engagement if this user's org subtree commissioned it, else None."""
    found = commissioned(ids=[engagement_id])
    return found[0] if found else None


#: the largest deviation the percentage columns hold (NUMERIC(9, 2)); beyond it is shown so
PCT_LIMIT = Decimal("9999999.99")


def _pct(part: Decimal, whole: Decimal | None) -> Decimal | None:
    """How far ``part`` is from ``whole``, in %; None when there is nothing to compare with."""
    if not whole:
        return None
    return max(-PCT_LIMIT, min(PCT_LIMIT, fen((part - whole) / whole * HUNDRED)))


def quote_engagement(eng, schedule: FeeSchedule, data: dict[str, Any], reason: str = "", *,
                     user: Any) -> FeeQuote:
    """Store (or redo) the quote of an engagement and compare its contract amount; only the
    commissioning party (``user``) redoes a stored quote."""
    existing = db.session.scalar(select(FeeQuote).where(FeeQuote.engagement_id == eng.id))
    if existing is not None and State(existing.state) not in (State.DRAFT, State.RETURNED):
        raise FeeError({"engagement_id": str(_l(
            "The quote of %(code)s is under review or approved and cannot be redone.",
            code=eng.code))})
    if existing is not None and \
            (problem := review.edit_problem(QUOTE_WORKFLOW, existing, user)) is not None:
        raise FeeError({"engagement_id": str(problem)})
    rules = rules_of(schedule)
    data = {**data, "stage": data.get("stage") or _stage_of(eng.kind),
            "evaluated_amount": data.get("evaluated_amount") or str(eng.evaluated_amount)}
    try:
        inputs = parse_inputs(data, rules)
    except ValueError as exc:
        raise FeeError(getattr(exc, "errors", {"inputs": str(exc)})) from None
    quote = compute(rules, inputs)
    deviation = _pct(eng.contract_amount, quote.total)
    scale_dev = _pct(eng.contract_amount, quote.scale_fee)
    needs = (deviation is not None and abs(deviation) > rules.contract_tolerance_pct) or \
        (scale_dev is not None and abs(scale_dev) > rules.scale_tolerance_pct) or \
        (not quote.total and eng.contract_amount > 0)  # a fee against a zero quote
    row = existing or FeeQuote(engagement_id=eng.id)
    row.engagement_code, row.engagement_title = eng.code, eng.title[:200]
    row.agency_id, row.agency_name = eng.agency_id, eng.agency_name
    row.org_unit_id, row.year = eng.org_unit_id, eng.start_on.year
    row.schedule_id, row.schedule_label = schedule.id, schedule.label
    row.inputs = inputs.to_json()
    row.lines = [ln.to_json() for ln in quote.lines]
    row.total, row.scale_fee, row.contract_amount = quote.total, quote.scale_fee, \
        eng.contract_amount
    row.deviation_pct, row.scale_deviation_pct, row.needs_approval = deviation, scale_dev, needs
    row.reason = (reason or "").strip()
    row.state, row.review_level = State.DRAFT, 0
    if existing is None:
        db.session.add(row)
    db.session.flush()
    return row


def _stage_of(kind: str) -> str:
    return kind if kind in STAGES else ""


def submit_quote(row: FeeQuote, user, reason: str) -> None:
    """Send a quote beyond tolerance to finance with its written reason."""
    reason = (reason or "").strip()
    if not row.needs_approval:
        raise WorkflowError(_l("This quote is within tolerance and needs no approval."))
    if not reason:
        raise WorkflowError(_l("Reason: a written reason is required for a deviation beyond "
                               "the tolerance."))
    row.reason = reason
    QUOTE_WORKFLOW.transition(row, "submit", user, reason)


def quote_status(row: FeeQuote) -> str:
    if not row.needs_approval:
        return str(_l("Within tolerance"))
    return {State.DRAFT: str(_l("Needs a reason and finance approval")),
            State.SUBMITTED: str(_l("Awaiting finance approval")),
            State.RETURNED: str(_l("Returned for revision")),
            State.APPROVED: str(_l("Approved by finance"))}[State(row.state)]


def stored_lines(row: FeeQuote) -> list[FeeLine]:
    return [FeeLine.from_json(x) for x in row.lines]


# --- what-if ----------------------------------------------------------------------------------

@dataclass
class WhatIf:
    year: int
    rows: list[dict[str, Any]]
    agencies: list[dict[str, Any]]
    old_total: Decimal
    new_total: Decimal
    problems: list[str]


def quote_years() -> list[int]:
    return list(db.session.scalars(select(FeeQuote.year).distinct()
                                   .order_by(FeeQuote.year.desc())))


def what_if(rules: FeeRules, year: int) -> WhatIf:
    """Old (stored) vs new (``rules``) fee of every stored quote of ``year``; writes nothing."""
    calculator = method_for(rules.method)
    rows, problems = [], []
    per_agency: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    old_total = new_total = ZERO
    for q in db.session.execute(
            select(FeeQuote.engagement_code, FeeQuote.engagement_title, FeeQuote.agency_name,
                   FeeQuote.total, FeeQuote.inputs).where(FeeQuote.year == year)
            .order_by(FeeQuote.agency_name, FeeQuote.engagement_code)):
        try:
            new = calculator(rules, inputs_from_json(q.inputs), explain=False)[-1].amount
        except KeyError as exc:
            problems.append(str(_l("%(code)s cannot be recomputed: %(name)s is not in the "
                                   "draft.", code=q.engagement_code, name=exc.args[0])))
            continue
        rows.append({"code": q.engagement_code, "title": q.engagement_title,
                     "agency": q.agency_name, "old": q.total, "new": new,
                     "change": new - q.total, "change_pct": _pct(new, q.total)})
        per_agency[q.agency_name][0] += q.total
        per_agency[q.agency_name][1] += new
        old_total += q.total
        new_total += new
    agencies = [{"agency": name, "old": old, "new": new, "change": new - old,
                 "change_pct": _pct(new, old)} for name, (old, new) in sorted(per_agency.items())]
    return WhatIf(year, rows, agencies, old_total, new_total, problems)


def rules_from_text(text: str) -> FeeRules:
    """Rules typed on the what-if page (JSON), checked; raises FeeError."""
    import json

    try:
        data = json.loads(text or "")
    except ValueError as exc:
        raise FeeError({"rules": str(_l("Not valid JSON: %(problem)s", problem=exc))}) from None
    try:
        return parse_rules(data, known_method)
    except RulesError as exc:
        raise FeeError(exc.errors) from None


# --- reconciliation -------------------------------------------------------------------------

def reconciliation(year: int | None) -> list[dict[str, Any]]:
    """Closed engagements with a quote: quoted vs logged person-days by grade, and a flag
    when the quoted effort is far above the logged effort (FEE_OVERBILLING_PCT)."""
    hours_per_day = Decimal(str(current_app.config["FEE_HOURS_PER_DAY"]))
    limit = Decimal(str(current_app.config["FEE_OVERBILLING_PCT"]))
    closed = {e.id: e for e in hooks().engagements(year=year, closed=True)}
    if not closed:
        return []
    out = []
    for q in db.session.scalars(select(FeeQuote).where(FeeQuote.engagement_id.in_(list(closed)))
                                .order_by(FeeQuote.engagement_code)):
        eng = closed[q.engagement_id]
        grade_of = {s.id: s.grade or "" for s in eng.team}
        logged: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for staff_id, hours in eng.logged_hours.items():
            logged[grade_of.get(staff_id, "")] += hours / hours_per_day
        quoted = {g: Decimal(d) for g, d in q.inputs.get("staff_days", {}).items()}
        grades = sorted(set(quoted) | set(logged))
        by_grade = [{"grade": g or str(_l("(no grade)")), "quoted": quoted.get(g, ZERO),
                     "logged": fen(logged.get(g, ZERO)),
                     "gap": fen(quoted.get(g, ZERO) - logged.get(g, ZERO))} for g in grades]
        q_total = sum(quoted.values(), ZERO)
        l_total = fen(sum(logged.values(), ZERO))
        flagged = q_total > 0 and q_total > l_total * (1 + limit / HUNDRED)
        out.append({"quote": q, "grades": by_grade, "quoted": q_total, "logged": l_total,
                    "gap": fen(q_total - l_total), "flagged": flagged})
    return out

