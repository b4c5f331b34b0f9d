"""Demo data: the bureau's fee schedule in force (the national expert fee range as the
expert day rates), a draft revision to try a what-if on, and quotes of the demo
engagements (within and beyond tolerance, one sent to finance)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from core.models import FiscalYear, Role, User
from core.permissions import ADMINS
from core.plugins import hooks
from plugins.agency_fees import service
from plugins.agency_fees.schedule import STAGES

CODE = "JD-FWF"
RULES = {
    "method": "standard",
    # the agencies' staff grades (the agencies demo records them in Chinese)
    "staff_day_rates": {"高级": "2000.00", "中级": "1400.00", "初级": "800.00"},
    # 1,500–2,400 yuan/day for senior titles, 900–1,500 for others, +50 % for academicians
    "expert_day_rates": {"高级职称": "2400.00", "其他专业人员": "1500.00", "院士": "3600.00"},
    "expert_half_day_pct": "60", "expert_later_day_pct": "50", "expert_later_from_day": "3",
    "remote_review_pct": "50",
    "survey_per_sample": "25.00",
    "kind_coefficients": {"project": "1.00", "policy": "1.20", "department": "1.30"},
    "stage_coefficients": {"pre_assessment": "0.80", "target_review": "0.50",
                           "monitoring": "0.60", "evaluation": "1.00", "re_evaluation": "0.70"},
    "management_pct": "10", "tax_pct": "6", "minimum_fee": "20000.00",
    "scale": {"use": "check", "tolerance_pct": "30", "bands": [
        {"lower": "0.00", "upper": "1000000.00", "rate_pct": "1.0"},
        {"lower": "1000000.00", "upper": "10000000.00", "rate_pct": "0.3"},
        {"lower": "10000000.00", "upper": "100000000.00", "rate_pct": "0.1"},
        {"lower": "100000000.00", "upper": None, "rate_pct": "0.02"}]},
    "contract_tolerance_pct": "15",
}
EFFORT = {"高级": Decimal(6), "中级": Decimal(12), "初级": Decimal(18)}


def seed_fees(session, rng, scale: str) -> None:
    year = session.scalar(select(FiscalYear).where(FiscalYear.status == "open")
                          .order_by(FiscalYear.year.desc()))
    if year is None:
        return
    active = service.create_draft({"code": CODE, "name": "嘉定区第三方机构服务费用测算标准（2021年修订）",
                                   "valid_from": date(year.year - 1, 1, 1), "rules": RULES,
                                   "note": "区财政局2021年修订；专家日费率取国家专家劳务费标准"})
    service.activate(active, None)
    raised = {**RULES, "staff_day_rates": {"高级": "2200.00", "中级": "1500.00",
                                           "初级": "900.00"}, "management_pct": "8"}
    service.create_draft({"code": CODE, "name": "嘉定区第三方机构服务费用测算标准（调整征求意见稿）",
                          "valid_from": date(year.year + 1, 1, 1), "rules": raised})
    sent = False
    for eng in hooks().engagements():
        if eng.kind not in STAGES:
            continue
        data = {"object_kind": "project",
                "experts": [{"title": "高级职称", "days": "1.5", "count": 3, "remote_reviews": 1},
                            {"title": "其他专业人员", "days": "1", "count": 2}],
                "survey_samples": rng.choice([0, 200, 400]),
                "direct_costs": [{"label": "差旅费", "amount": f"{rng.randint(5, 30) * 100}.00"}]}
        # the commissioning party quotes; it sends one quote beyond tolerance to finance
        owner = session.scalar(select(User).where(
            User.org_unit_id == eng.org_unit_id, User.role.has(Role.name.in_(ADMINS)))
            .order_by(User.id))
        # the agency's effort estimate roughly matches what was contracted (±25 %)
        factor = Decimal(1)
        for step in range(4):
            if step == 3:
                factor *= Decimal(rng.randint(80, 125)) / 100
            data["staff_days"] = {g: str((d * factor * 2).to_integral_value() / 2)
                                  for g, d in EFFORT.items()}
            quote = service.quote_engagement(eng, active, data, user=owner)
            factor *= eng.contract_amount / quote.total
        if quote.needs_approval and not sent and owner is not None:
            service.submit_quote(quote, owner, "评价对象涉及多个街镇，现场核查工作量大于测算标准假设。")
            sent = True
    session.flush()
