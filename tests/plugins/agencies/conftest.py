from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from core.extensions import db
from core.models import Attachment, BudgetItem, FiscalYear, OrgUnit, WorkflowEvent
from tests.support import make_engagement, member_agency


@dataclass
class World:
    """Two agencies (of agency01 and agency02), each with staff and an approved engagement."""

    agency_ids: list[int]
    staff_ids: list[list[int]]
    engagement_ids: list[int]
    log_ids: list[int]
    item_ids: list[int]
    tag: str


@pytest.fixture
def world(app):
    from plugins.agencies.models import AgencyStaff, Engagement, StaffEmployment, WorkLog

    tag = secrets.token_hex(3)
    with app.app_context():
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
        items = [BudgetItem(code=f"2026-AG{tag}-{n}", name=f"委托测试项目{n}",
                            fiscal_year_id=year.id, org_unit_id=unit.id, kind="project",
                            amount=Decimal("2000000.00")) for n in range(2)]
        db.session.add_all(items)
        db.session.flush()
        item_ids = [i.id for i in items]
        agency_ids = [member_agency("agency01"), member_agency("agency02")]
        staff_ids, eng_ids, log_ids = [], [], []
        for k, agency_id in enumerate(agency_ids):
            people = [AgencyStaff(agency_id=agency_id, name=f"测试员{tag}{k}{j}", title="注册会计师")
                      for j in range(3)]
            db.session.add_all(people)
            db.session.flush()
            staff_ids.append([p.id for p in people])
            eng = make_engagement(agency_id, [p.id for p in people[:2]], [item_ids[k]], tag=tag,
                                  n=k)
            eng_ids.append(eng.id)
            log = WorkLog(engagement_id=eng.id, agency_id=agency_id, org_unit_id=eng.org_unit_id,
                          staff_id=people[0].id, work_date=date(2026, 4, 1),
                          hours=Decimal("3.00"), activity="desk_review", notes=f"secret{tag}{k}")
            db.session.add(log)
            db.session.flush()
            log_ids.append(log.id)
        db.session.commit()
    yield World(agency_ids, staff_ids, eng_ids, log_ids, item_ids, tag)
    with app.app_context():
        engs = list(db.session.scalars(select(Engagement.id).where(
            Engagement.code.like(f"T-{tag}-%"))))
        logs = list(db.session.scalars(select(WorkLog.id).where(WorkLog.engagement_id.in_(engs))))
        db.session.execute(delete(Attachment).where(Attachment.object_type == "work_log",
                                                    Attachment.object_id.in_(logs)))
        db.session.execute(delete(Attachment).where(
            Attachment.object_type == "engagement_deliverable", Attachment.object_id.in_(engs)))
        db.session.execute(delete(WorkLog).where(WorkLog.engagement_id.in_(engs)))
        db.session.execute(delete(WorkflowEvent).where(WorkflowEvent.object_type == "engagement",
                                                       WorkflowEvent.object_id.in_(engs)))
        for eng in db.session.scalars(select(Engagement).where(Engagement.id.in_(engs))):
            db.session.delete(eng)
        db.session.flush()
        all_staff = [s for group in staff_ids for s in group]
        db.session.execute(delete(StaffEmployment).where(StaffEmployment.staff_id.in_(all_staff)))
        db.session.execute(delete(AgencyStaff).where(AgencyStaff.id.in_(all_staff)))
        db.session.execute(delete(BudgetItem).where(BudgetItem.id.in_(item_ids)))
        db.session.commit()
