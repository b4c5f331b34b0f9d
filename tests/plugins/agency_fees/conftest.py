from __future__ import annotations

import copy
import secrets
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgUnit, WorkflowEvent
from tests.support import make_engagement, member_agency

RULES = {
    "method": "standard",
    "staff_day_rates": {"senior": "2000.00", "middle": "1500.00", "junior": "800.00"},
    "expert_day_rates": {"高级职称": "2400.00", "其他专业人员": "1500.00", "院士": "3600.00"},
    "expert_half_day_pct": "60", "expert_later_day_pct": "50", "expert_later_from_day": "3",
    "remote_review_pct": "50", "survey_per_sample": "20.00",
    "kind_coefficients": {"project": "1", "policy": "1.2", "department": "1.5"},
    "stage_coefficients": {"pre_assessment": "0.8", "target_review": "0.5", "monitoring": "0.6",
                           "evaluation": "1", "re_evaluation": "0.7"},
    "management_pct": "10", "tax_pct": "6", "minimum_fee": "10000.00",
    "scale": {"use": "check", "tolerance_pct": "30", "bands": [
        {"lower": "0", "upper": "1000000", "rate_pct": "2"},
        {"lower": "1000000", "upper": "5000000", "rate_pct": "1"},
        {"lower": "5000000", "upper": None, "rate_pct": "0.5"}]},
    "contract_tolerance_pct": "10",
}


def rules(**changes):
    data = copy.deepcopy(RULES)
    for key, value in changes.items():
        data[key] = value
    return data


@pytest.fixture
def code():
    return f"T{secrets.token_hex(3).upper()}"


@pytest.fixture
def make_schedule(app, code):
    """An active (or draft) schedule of a fresh code; removed afterwards with its quotes."""
    from plugins.agency_fees import service

    def make(data=None, *, active=True, valid_from=date(2020, 1, 1), schedule_code=None):
        with app.app_context():
            s = service.create_draft({"code": schedule_code or code, "name": "测试收费标准",
                                      "valid_from": valid_from, "rules": data or RULES})
            if active:
                service.activate(s, None)
            db.session.commit()
            return s.id

    yield make
    with app.app_context():
        from plugins.agency_fees.models import FeeQuote, FeeSchedule

        ids = list(db.session.scalars(select(FeeSchedule.id).where(
            FeeSchedule.code.like("T%"))))
        quotes = list(db.session.scalars(select(FeeQuote.id).where(
            FeeQuote.schedule_id.in_(ids))))
        db.session.execute(delete(WorkflowEvent).where(WorkflowEvent.object_type == "fee_quote",
                                                       WorkflowEvent.object_id.in_(quotes)))
        db.session.execute(delete(FeeQuote).where(FeeQuote.id.in_(quotes)))
        db.session.execute(delete(FeeSchedule).where(FeeSchedule.id.in_(ids)))
        db.session.commit()


@pytest.fixture
def engagements(app):
    """Two approved engagements of agency01's agency: one of D01, one of D02 (2026)."""
    from plugins.agencies.models import AgencyStaff, Engagement, WorkLog

    tag = secrets.token_hex(3)
    with app.app_context():
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
        item = BudgetItem(code=f"2026-FEE{tag}", name="服务费测试项目", fiscal_year_id=year.id,
                          org_unit_id=unit.id, kind="project", amount=Decimal("3000000.00"))
        db.session.add(item)
        db.session.flush()
        agency_id = member_agency("agency01")
        people = [AgencyStaff(agency_id=agency_id, name=f"费测{tag}{g}", grade=g)
                  for g in ("senior", "middle", "junior")]
        db.session.add_all(people)
        db.session.flush()
        ids = [make_engagement(agency_id, [p.id for p in people], [item.id], org_code=org,
                               tag=tag, n=n).id for n, org in enumerate(("D01", "D02"))]
        staff = [p.id for p in people]
        db.session.commit()
    yield {"ids": ids, "staff": staff, "agency_id": agency_id, "tag": tag}
    with app.app_context():
        from plugins.agency_fees.models import FeeQuote

        quotes = list(db.session.scalars(select(FeeQuote.id).where(
            FeeQuote.engagement_id.in_(ids))))
        db.session.execute(delete(WorkflowEvent).where(WorkflowEvent.object_type == "fee_quote",
                                                       WorkflowEvent.object_id.in_(quotes)))
        db.session.execute(delete(FeeQuote).where(FeeQuote.id.in_(quotes)))
        db.session.execute(delete(WorkLog).where(WorkLog.engagement_id.in_(ids)))
        for eng in db.session.scalars(select(Engagement).where(Engagement.id.in_(ids))):
            db.session.delete(eng)
        db.session.flush()
        db.session.execute(delete(AgencyStaff).where(AgencyStaff.name.like(f"费测{tag}%")))
        db.session.execute(delete(BudgetItem).where(BudgetItem.code == f"2026-FEE{tag}"))
        db.session.commit()


def api_post(client, path, payload):
    from tests.support import csrf_from

    token = csrf_from(client.get("/admin/").text)
    return client.post(path, json=payload, headers={"X-CSRFToken": token})


