"""Fixtures: engagements of the demo agencies (made with the agencies plugin, as a user of
both plugins would), closed through the agencies plugin; every row a test adds to this
plugin's tables is removed afterwards so that restrictions never leak into other tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import Attachment, BudgetItem, FiscalYear, OrgUnit, ScoreRecord, State
from tests import support
from tests.support import member_agency, user

#: a full-marks sheet input except what a test changes
FULL = {
    "工作质量/报告质量": {"level": "A"}, "工作质量/证据充分性": {"level": "A"},
    "工作质量/结论合理性": {"level": "A"}, "时效性/按期提交成果": {"defects": "0"},
    "人员配备/团队与合同一致": {"target": "2", "actual": "2"},
    "人员配备/人员资质": {"level": "A"}, "工作纪律/独立性": {"defects": "0"},
    "工作纪律/保密": {"defects": "0"}, "工作纪律/未转包分包": {"defects": "0"},
    "配合度/沟通配合": {"level": "A"},
}
SPOT = {"抽查/报告规范性": {"level": "B"}, "抽查/证据充分性": {"level": "B"},
        "抽查/结论可靠性": {"level": "B"}}


@dataclass
class Engagements:
    """Per agency of agency01 and agency02: an approved engagement commissioned by D01."""

    agency_ids: list[int]
    staff_ids: list[list[int]]
    ids: list[int]
    tag: str


def make_engagement(agency_id: int, staff_ids: list[int], tag: str, n: int,
                    org_code: str = "D01", state=State.APPROVED,
                    amount: Decimal = Decimal("150000.00")) -> int:
    """An engagement (due 30 September 2026) of a new item of its own; its id."""
    year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
    item = BudgetItem(code=f"2026-AS{tag}-{n}", name=f"考核测试项目{n}", fiscal_year_id=year.id,
                      org_unit_id=unit.id, kind="project", amount=Decimal("2000000.00"))
    db.session.add(item)
    db.session.flush()
    return support.make_engagement(
        agency_id, staff_ids, [item.id], tag=tag, n=n, prefix="AS", title="考核测试委托",
        org_code=org_code, state=state, contract_amount=amount,
        budget_amount=amount + Decimal("50000.00"), end_on=date(2026, 9, 30)).id


def log_and_deliver(engagement_id: int, staff_id: int, uploaded: datetime) -> None:
    """One work log by ``staff_id`` and one deliverable uploaded at ``uploaded``."""
    from plugins.agencies.models import Engagement, WorkLog

    eng = db.session.get(Engagement, engagement_id)
    db.session.add(WorkLog(engagement_id=eng.id, agency_id=eng.agency_id,
                           org_unit_id=eng.org_unit_id, staff_id=staff_id,
                           work_date=date(2026, 4, 1), hours=Decimal("6.00"),
                           activity="desk_review"))
    db.session.add(Attachment(object_type="engagement_deliverable", object_id=eng.id,
                              filename="评价报告.pdf", stored_name=secrets.token_hex(16),
                              size=10, sha256="0" * 64, org_unit_id=eng.org_unit_id,
                              created_at=uploaded))
    db.session.flush()


def close(engagement_id: int, username: str = "dept01") -> None:
    """Close through the agencies plugin (which broadcasts ``jixiao_engagement_closed``)."""
    from plugins.agencies import service
    from plugins.agencies.models import Engagement

    service.close(db.session.get(Engagement, engagement_id), user(username))
    db.session.commit()


@pytest.fixture
def engagements(app):
    from plugins.agencies.models import AgencyStaff, Engagement, WorkLog

    tag = secrets.token_hex(3)
    with app.app_context():
        agency_ids = [member_agency("agency01"), member_agency("agency02")]
        staff_ids, ids = [], []
        for k, agency_id in enumerate(agency_ids):
            people = [AgencyStaff(agency_id=agency_id, name=f"考核员{tag}{k}{j}") for j in range(3)]
            db.session.add_all(people)
            db.session.flush()
            staff_ids.append([p.id for p in people])
            ids.append(make_engagement(agency_id, [p.id for p in people[:2]], tag, k))
        db.session.commit()
    yield Engagements(agency_ids, staff_ids, ids, tag)
    with app.app_context():
        engs = list(db.session.scalars(select(Engagement.id).where(
            Engagement.code.like(f"AS-{tag}-%"))))
        db.session.execute(delete(Attachment).where(
            Attachment.object_type == "engagement_deliverable", Attachment.object_id.in_(engs)))
        db.session.execute(delete(WorkLog).where(WorkLog.engagement_id.in_(engs)))
        for eng in db.session.scalars(select(Engagement).where(Engagement.id.in_(engs))):
            db.session.delete(eng)
        db.session.flush()
        db.session.execute(delete(BudgetItem).where(BudgetItem.code.like(f"2026-AS{tag}-%")))
        db.session.execute(delete(AgencyStaff).where(
            AgencyStaff.id.in_([s for group in staff_ids for s in group])))
        db.session.commit()


@pytest.fixture(autouse=True)
def _clean_scoring_rows(app):
    """Remove every assessment, appeal, rating, restriction and score a test added."""
    from plugins.agency_scoring.models import Appeal, Assessment, Rating, Restriction

    models = (Appeal, Assessment, Rating, Restriction, ScoreRecord)
    with app.app_context():
        before = {m: db.session.scalar(select(func.coalesce(func.max(m.id), 0))) for m in models}
    yield
    with app.app_context():
        db.session.execute(delete(Appeal).where(Appeal.id > before[Appeal]))
        db.session.execute(delete(Assessment).where(Assessment.id > before[Assessment]))
        for model in (Rating, Restriction, ScoreRecord):
            db.session.execute(delete(model).where(model.id > before[model]))
        db.session.commit()


def assessment_of(engagement_id: int):
    from plugins.agency_scoring.models import Assessment

    return db.session.scalar(select(Assessment).where(Assessment.engagement_id == engagement_id)
                             .execution_options(jixiao_unscoped=True))
