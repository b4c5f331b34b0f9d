"""fee_quote: quoting 1,000 engagements with a draft fee schedule (the what-if over a year).

Project: what the what-if does for each of a year's stored quotes — the agency
fees plugin's ``standard`` method (found through ``jixiao_fee_method``) on
``calc.inputs_from_json`` of the stored inputs, with ``explain=False``: the same
fen rounding per line, coefficients, management fee, tax and minimum fee, but no
line objects (the what-if shows totals). Baseline: a plain-Python loop computing
the same formula with ``Decimal`` over the same stored inputs. Both are timed in
the same run, taking turns, and must give identical totals.

Extra figures, against the same baseline: ``fee_quote_explained`` (every line
with its numbers and the sliding-scale cross-check, as a single quote is built
for the API and the quote sheet) and ``fee_quote_what_if`` (the whole what-if:
reading the 1,000 stored quotes from the database, recomputing them, totals per
agency).
"""

from __future__ import annotations

import random
import tempfile
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import insert, select
from support import Figures, Result, demo_app, interleaved_medians, progress, temp_database

NAME = "fee_quote"
COUNT = {"small": 200, "full": 1_000}
REPEAT = {"small": 5, "full": 15}
YEAR = 2019  # a year of its own: no demo quote is in it
FEN = Decimal("0.01")
HUNDRED = Decimal(100)


def make_inputs(rng: random.Random, rules: dict, n: int) -> list[dict]:
    grades, titles = list(rules["staff_day_rates"]), list(rules["expert_day_rates"])
    out = []
    for _ in range(n):
        out.append({
            "object_kind": rng.choice(["project", "policy", "department"]),
            "stage": rng.choice(["pre_assessment", "target_review", "monitoring", "evaluation",
                                 "re_evaluation"]),
            "evaluated_amount": f"{rng.randint(100_000, 900_000_000)}.{rng.randint(0, 99):02d}",
            "staff_days": {g: str(Decimal(rng.randint(1, 120)) / 2) for g in grades
                           if rng.random() < 0.9},
            "experts": [{"title": rng.choice(titles), "days": str(Decimal(rng.randint(1, 8)) / 2),
                         "count": rng.randint(1, 5), "remote_reviews": rng.randint(0, 2)}
                        for _ in range(rng.randint(0, 3))],
            "survey_samples": rng.choice([0, 0, 100, 300, 1000]),
            "direct_costs": [{"label": "差旅费", "amount": f"{rng.randint(100, 20000)}.00"}]
            if rng.random() < 0.7 else [],
        })
    return out


def plain_totals(rules: dict, stored: list[dict]) -> list[Decimal]:
    """The same formula, written as one plain loop over the stored inputs."""
    staff_rates = {k: Decimal(v) for k, v in rules["staff_day_rates"].items()}
    expert_rates = {k: Decimal(v) for k, v in rules["expert_day_rates"].items()}
    half = Decimal(rules["expert_half_day_pct"]) / HUNDRED
    later = Decimal(rules["expert_later_day_pct"]) / HUNDRED
    later_from = int(rules["expert_later_from_day"])
    remote = Decimal(rules["remote_review_pct"]) / HUNDRED
    sample = Decimal(rules["survey_per_sample"])
    kinds = {k: Decimal(v) for k, v in rules["kind_coefficients"].items()}
    stages = {k: Decimal(v) for k, v in rules["stage_coefficients"].items()}
    management, tax = Decimal(rules["management_pct"]), Decimal(rules["tax_pct"])
    minimum = Decimal(rules["minimum_fee"])
    totals = []
    for d in stored:
        labour = Decimal(0)
        for grade, days in d["staff_days"].items():
            labour += (Decimal(days) * staff_rates[grade]).quantize(FEN, ROUND_HALF_UP)
        for e in d["experts"]:
            rate, days = expert_rates[e["title"]], Decimal(e["days"])
            whole = int(days)
            full = min(whole, later_from - 1)
            units = full + (whole - full) * later
            if days != whole:
                units += half * (later if whole + 1 >= later_from else 1)
            labour += (rate * units * e["count"]).quantize(FEN, ROUND_HALF_UP)
            if e["remote_reviews"]:
                labour += (rate * remote * e["remote_reviews"] * e["count"]).quantize(
                    FEN, ROUND_HALF_UP)
        subtotal = (labour * kinds[d["object_kind"]] * stages[d["stage"]]).quantize(
            FEN, ROUND_HALF_UP)
        subtotal += (d["survey_samples"] * sample).quantize(FEN, ROUND_HALF_UP)
        for c in d["direct_costs"]:
            subtotal += Decimal(c["amount"])
        fee_m = (subtotal * management / HUNDRED).quantize(FEN, ROUND_HALF_UP)
        fee_t = ((subtotal + fee_m) * tax / HUNDRED).quantize(FEN, ROUND_HALF_UP)
        total = max(subtotal + fee_m + fee_t, minimum)  # the scale is a cross-check here
        totals.append(total)
    return totals


def store_quotes(app, stored: list[dict], schedule_id: int) -> None:
    from core.extensions import db
    from core.models import OrgUnit
    from plugins.agency_fees.models import FeeQuote

    with app.app_context():
        org = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "D01"))
        rows = [{"engagement_id": 10_000_000 + n, "engagement_code": f"B-{n:05d}",
                 "engagement_title": "基准委托", "agency_id": n % 7,
                 "agency_name": f"基准机构{n % 7}", "year": YEAR, "schedule_id": schedule_id,
                 "schedule_label": "JD-FWF r1", "inputs": d, "lines": [],
                 "total": Decimal("100000.00"), "contract_amount": Decimal("100000.00"),
                 "needs_approval": False, "reason": "", "org_unit_id": org, "state": "DRAFT",
                 "review_level": 0, "version": 1} for n, d in enumerate(stored)]
        with db.engine.begin() as conn:
            conn.execute(insert(FeeQuote.__table__), rows)


def run(scale: str, db_url: str | None) -> Result:
    n = COUNT[scale]
    with temp_database(db_url) as url, tempfile.TemporaryDirectory() as instance:
        progress("building the demo app")
        app = demo_app(url, instance)
        from core.extensions import db
        from plugins.agency_fees import service
        from plugins.agency_fees.calc import inputs_from_json
        from plugins.agency_fees.models import FeeSchedule, ScheduleStatus

        with app.app_context():
            draft = db.session.scalar(select(FeeSchedule).where(
                FeeSchedule.status == ScheduleStatus.DRAFT))
            raw_rules, draft_id = draft.rules, draft.id
        stored = make_inputs(random.Random(2021), raw_rules, n)
        progress(f"storing {n} quotes")
        store_quotes(app, stored, draft_id)
        with app.app_context():
            rules = service.rules_from_text(__import__("json").dumps(raw_rules))
            calculator = service.method_for(rules.method)

            def project():  # what the what-if does for each quote
                return [calculator(rules, inputs_from_json(d), explain=False)[-1].amount
                        for d in stored]

            def explained():  # every line with its numbers, and the scale cross-check
                return [service.compute(rules, inputs_from_json(d), calculator).total
                        for d in stored]

            def baseline():
                return plain_totals(raw_rules, stored)

            def whole_what_if():
                return service.what_if(rules, YEAR)

            same = project() == baseline()
            what_if_total = whole_what_if().new_total
            if not same or what_if_total != sum(baseline(), Decimal(0)):
                raise AssertionError("the project and the baseline disagree on the totals")
            progress(f"timing {n} quotes, {REPEAT[scale]} turns")
            if explained() != project():
                raise AssertionError("explained quotes disagree with the what-if totals")
            t = interleaved_medians({"project": project, "baseline": baseline,
                                     "explained": explained, "what_if": whole_what_if},
                                    REPEAT[scale])
    return Result(t["project"], t["baseline"], {
        "quotes": n, "identical_totals": same,
        "fee_quote_explained": Figures({
            "every line and the cross-check": f"{t['explained']:.4f} s",
            "ratio to baseline": f"{t['explained'] / t['baseline']:.2f}"}),
        "fee_quote_what_if": Figures({
            "what-if with database": f"{t['what_if']:.4f} s",
            "ratio to baseline": f"{t['what_if'] / t['baseline']:.2f}",
            "total": f"{what_if_total}"})})
