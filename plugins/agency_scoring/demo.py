"""Demo data: last year's assessments (carried over, without engagements in the system)
scored and spot-checked, last year's rating published (one agency rated poor and so
excluded), and this year's closed engagements assessed, one of them appealed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from core.models import OrgKind, OrgUnit, User
from core.plugins import hooks
from core.scope import principal_for
from plugins.agency_scoring.models import Assessment, AssessmentStatus
from plugins.agency_scoring.rating import compute_ratings, publish_ratings
from plugins.agency_scoring.rules import STAFFING, TIMELINESS, rules_for_year
from plugins.agency_scoring.service import (
    PARTY,
    SPOT,
    file_appeal,
    open_from,
    record_score,
)

#: per agency (in id order): graded level, days late, staff who worked of 3, discipline defects
PROFILES = [("A", 0, 3, 0), ("B", 5, 2, 0), ("C", 3, 2, 0), ("D", 10, 1, 1)]
TITLES = ["项目支出绩效评价", "部门整体支出评价", "政策绩效评估", "绩效目标审核"]


def _inputs(rules, items, level: str, late: int, worked: int, defects: int) -> dict:
    out = {}
    for item in items:
        if item.method == "qualitative":
            out[item.path] = {"level": level}
        elif item.evidence == TIMELINESS:
            out[item.path] = {"defects": late}
        elif item.evidence == STAFFING:
            out[item.path] = {"target": "3", "actual": str(worked)}
        elif item.method == "deduction":
            out[item.path] = {"defects": defects}
    return out


def _user(session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def _agency_user(session, agency_id: int) -> User | None:
    for user in session.scalars(select(User).where(User.username.like("agency%"))
                                .order_by(User.username)):
        if principal_for(user).agency_id == agency_id:
            return user
    return None


def seed_scoring(session, rng, scale: str) -> None:
    views = hooks().engagements()
    if not views:
        return
    year = max(v.end_on.year for v in views)
    agencies = dict(sorted({v.agency_id: v.agency_name for v in views}.items()))
    finance = _user(session, "finance")
    depts = session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgKind.DEPARTMENT)
                            .order_by(OrgUnit.code)).all()
    party = _user(session, "dept01") or finance
    last = year - 1
    rules = rules_for_year(last)
    for k, (agency_id, name) in enumerate(agencies.items()):
        level, late, worked, defects = PROFILES[k % len(PROFILES)]
        for n in range(2 + rng.randint(0, 1)):
            org = depts[(k + n) % len(depts)] if depts else None
            if org is None:
                return
            a = Assessment(
                engagement_id=None, agency_id=agency_id, agency_name=name,
                code=f"WT-{last}-{k + 1}{n + 1:02d}", title=f"{org.name}{TITLES[n % 4]}",
                contract_amount=Decimal(rng.randrange(80_000, 400_000, 1_000)),
                end_on=date(last, 11, 30), closed_at=datetime(last, 12, 15, 17, 0),
                year=last, org_unit_id=org.id, rule_code=rules.code, evidence={},
                status=AssessmentStatus.OPEN, vetoes=[])
            session.add(a)
            session.flush()
            record_score(a, PARTY, _inputs(rules, rules.sheet, level, late, worked, defects),
                         [], party)
            if n == 0:
                record_score(a, SPOT, _inputs(rules, rules.spot_sheet, level, 0, 3, 0), [],
                             finance)
    compute_ratings(last)
    publish_ratings(last)
    # this year: every closed engagement is assessed; the first is scored and appealed
    for view in views:
        if view.closed_at is None:
            continue
        a = open_from(view)
        if a is None or a.party_total is not None:
            continue
        current = rules_for_year(a.year)
        record_score(a, PARTY, _inputs(current, current.sheet, "C", 2, 2, 0), [], party)
        agency_user = _agency_user(session, a.agency_id)
        if agency_user is not None:
            file_appeal(a, "成果按期提交，延期系委托方补充资料所致，请求复核时效性扣分。", agency_user)
        break
