"""Demo data: five agencies with staff, the demo agency users attached, engagements of
the demo year in every status (one held up by a conflict of interest) and work logs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.models import BudgetItem, FiscalYear, OrgKind, OrgUnit, State, User, WorkflowEvent
from plugins.agencies.models import (
    Activity,
    Agency,
    AgencyKind,
    AgencyMember,
    AgencyStaff,
    Engagement,
    Procurement,
    StaffCertificate,
    StaffEmployment,
    WorkKind,
    WorkLog,
)
from plugins.agencies.uscc import make_uscc

AGENCIES = [
    ("上海信衡绩效评价咨询有限公司", AgencyKind.CONSULTANCY, "91310115MA1H7A2B3"),
    ("立明会计师事务所（特殊普通合伙）", AgencyKind.ACCOUNTING, "91310000MA1K4C5D6"),
    ("东方资产评估有限公司", AgencyKind.APPRAISAL, "91310104MA1N8E9F0"),
    ("华东公共政策研究院", AgencyKind.RESEARCH, "52310000MJ4G1H2J3"),
    ("申江律师事务所", AgencyKind.LAW, "31310000MD0K3L4M5"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["晓明", "丽华", "建国", "思远", "静怡", "志强", "雨婷", "海峰", "佳琪", "文博"]
TITLES = [("高级会计师", "高级"), ("注册会计师", "中级"), ("经济师", "中级"),
          ("助理研究员", "初级"), ("项目经理", "高级")]
ACTIVITIES = list(Activity)


def seed_agencies(session, rng, scale: str) -> None:
    year = session.scalar(select(FiscalYear).where(FiscalYear.status == "open")
                          .order_by(FiscalYear.year.desc()))
    if year is None:
        return
    bureau = session.scalar(select(OrgUnit).where(OrgUnit.kind == OrgKind.FINANCE_BUREAU,
                                                  OrgUnit.parent_id.is_(None)))
    depts = session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgKind.DEPARTMENT)
                            .order_by(OrgUnit.code)).all()
    agencies = []
    for name, kind, body in AGENCIES:
        agency = Agency(name=name, kind=kind, credit_code=make_uscc(body),
                        qualifications="财政部门第三方机构库入库；质量管理体系认证",
                        contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                        contact_phone=f"021-{rng.randint(5000_0000, 6999_9999)}",
                        contact_email="contact@example.cn", address="上海市")
        session.add(agency)
        agencies.append(agency)
        for _n in range(4):
            title, grade = rng.choice(TITLES)
            person = AgencyStaff(agency=agency, name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                                 title=title, grade=grade)
            person.certificates.append(StaffCertificate(
                name=title, number=f"C{rng.randint(100000, 999999)}",
                expires_on=date(year.year + rng.randint(0, 3), rng.randint(1, 12), 1)))
            session.add(person)
    session.flush()
    # a staff member of the second agency came from the second department last year
    if len(depts) > 1:
        agencies[1].staff[0].employments.append(StaffEmployment(
            employer=depts[1].name, org_unit_id=depts[1].id,
            start_on=date(year.year - 6, 3, 1), end_on=date(year.year - 1, 6, 30)))
    users = session.scalars(select(User).where(User.username.like("agency%"))
                            .order_by(User.username)).all()
    for user, agency in zip(users, agencies, strict=False):
        session.add(AgencyMember(user_id=user.id, agency_id=agency.id))

    def items_of(org: OrgUnit, n: int) -> list[BudgetItem]:
        return list(session.scalars(
            select(BudgetItem).join(OrgUnit, OrgUnit.id == BudgetItem.org_unit_id)
            .where(BudgetItem.fiscal_year_id == year.id, OrgUnit.path.startswith(org.path))
            .order_by(BudgetItem.code).limit(n)))

    y = year.year
    plan = [  # (commissioner, agency, kind, state, closed, title)
        (bureau, 0, WorkKind.EVALUATION, State.APPROVED, False, "重点项目财政评价"),
        (depts[0], 0, WorkKind.MONITORING, State.APPROVED, False, "绩效运行监控技术支持"),
        (depts[0], 1, WorkKind.TARGET_REVIEW, State.APPROVED, True, "绩效目标审核"),
        (bureau, 2, WorkKind.RE_EVALUATION, State.APPROVED, False, "部门自评再评价"),
        (depts[1] if len(depts) > 1 else depts[0], 1, WorkKind.PRE_ASSESSMENT,
         State.SUBMITTED, False, "新增项目事前绩效评估"),
        (bureau, 3, WorkKind.PRE_ASSESSMENT, State.DRAFT, False, "政策事前绩效评估"),
    ]
    for n, (org, a, kind, state, closed, title) in enumerate(plan, start=1):
        agency = agencies[a]
        source = depts[n % len(depts)] if org.kind == OrgKind.FINANCE_BUREAU else org
        amount = Decimal(rng.randrange(80_000, 400_000, 1_000))
        eng = Engagement(
            code=f"WT-{y}-{n:03d}", title=f"{source.name}{title}", org_unit_id=org.id,
            agency_id=agency.id, kind=kind, procurement=rng.choice(list(Procurement)),
            contract_amount=amount, budget_reference=f"{y}年度绩效评价经费",
            budget_amount=amount + Decimal(50_000), start_on=date(y, 1 + n, 1),
            end_on=date(y, 12, 31), deliverables="工作方案、底稿、评价报告",
            state=state, review_level=1 if state == State.APPROVED else 0)
        eng.items = items_of(source, 2)
        eng.team = list(agency.staff[:3])
        session.add(eng)
        session.flush()
        when = datetime(y, 1 + n, 1, 9, 0)
        if state in (State.SUBMITTED, State.APPROVED):
            session.add(WorkflowEvent(object_type="engagement", object_id=eng.id,
                                      action="submit", from_state="draft", to_state="submitted",
                                      level=0, at=when))
        if state == State.APPROVED:
            session.add(WorkflowEvent(object_type="engagement", object_id=eng.id,
                                      action="approve", from_state="submitted",
                                      to_state="approved", level=0, at=when + timedelta(days=3)))
            for k in range(6):
                day = eng.start_on + timedelta(days=3 + 7 * k)
                session.add(WorkLog(
                    engagement_id=eng.id, agency_id=agency.id, org_unit_id=org.id,
                    staff_id=eng.team[k % len(eng.team)].id, work_date=day,
                    hours=Decimal(rng.choice([2, 3, 4, 6, 8])),
                    activity=ACTIVITIES[k % len(ACTIVITIES)], location=source.name,
                    notes="按工作方案推进", submitted_at=datetime.combine(day, datetime.min.time())
                    if k < 4 else None))
            if closed:
                eng.closed_at = datetime(y, 6, 30, 17, 0)
    session.flush()
