"""A department of our own with items, and a stand-in for the targets and evaluation
plugins answering the contracts (``core.contracts``) — disclosure is tested against
the contracts only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.contracts import EvaluationResult, IndicatorView, ItemTargets
from core.extensions import db
from core.models import BudgetItem, FiscalYear, ItemKind, OrgKind, OrgUnit, Role, User
from core.plugins import hookimpl
from plugins.system.demo import DEMO_PASSWORD
from tests.support import csrf_from, evaluation_result, registered, run_long_action

YEAR = 2026
#: code suffix → (kind, amount)
ITEMS = {"A": (ItemKind.PROJECT, "6000000.00"), "B": (ItemKind.PROJECT, "3000000.00"),
         "C": (ItemKind.PROJECT, "1000000.00"), "P": (ItemKind.POLICY, "2000000.00")}


class FakeStages:
    """Answers ``jixiao_approved_targets`` and ``jixiao_evaluation_results``."""

    def __init__(self):
        self.targets: dict[int, ItemTargets] = {}
        self.results: list[EvaluationResult] = []

    @hookimpl
    def jixiao_approved_targets(self, year, item_ids):
        return {k: v for k, v in self.targets.items()
                if (year is None or v.fiscal_year == year)
                and (item_ids is None or k in item_ids)}

    @hookimpl
    def jixiao_evaluation_results(self, year, item_ids, kinds):
        return [r for r in self.results if year is None or r.fiscal_year == year]

    def approve_targets(self, item_id: int, org_unit_id: int, goal: str) -> None:
        self.targets[item_id] = ItemTargets(
            budget_item_id=item_id, sheet_id=800_000 + item_id, org_unit_id=org_unit_id,
            fiscal_year=YEAR, goal=goal, indicators=(
                IndicatorView(1, "产出", "数量", f"完成数量{item_id}", "ge", "10", "个",
                              Decimal(50), "proportional"),
                IndicatorView(2, "满意度", "服务对象满意度", "满意度", "ge", "90", "%",
                              Decimal(50), "proportional")))


def result(item_ids, org_unit_id, *, amount="1.00", score="85.00", grade="B",
           kind="department_key") -> EvaluationResult:
    return evaluation_result(item_ids, year=YEAR, org_unit_id=org_unit_id, kind=kind,
                             score=score, grade=grade, amount=amount, title=f"评价{item_ids}",
                             summary="总体完成较好，建议加强成本控制。", final_month=4)


@pytest.fixture
def stages(app):
    with registered(app, FakeStages()) as fake:
        yield fake


@dataclass
class World:
    tag: str
    dept_id: int
    dept_code: str
    unit_id: int
    unit_code: str
    user: str
    other_user: str
    items: dict[str, int] = field(default_factory=dict)

    def code(self, suffix: str) -> str:
        return f"{YEAR}-X{self.tag}-{suffix}"


@pytest.fixture
def world(app) -> World:
    tag = secrets.token_hex(3).upper()
    with app.app_context():
        bureau = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "CZJ"))
        fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == YEAR))
        roles = {r.name: r for r in db.session.scalars(select(Role))}
        dept = OrgUnit(code=f"X{tag}", name=f"公开测试部门{tag}", kind=OrgKind.DEPARTMENT,
                       parent=bureau)
        unit = OrgUnit(code=f"X{tag}U1", name=f"公开测试单位{tag}", kind=OrgKind.UNIT,
                       parent=dept)
        other = OrgUnit(code=f"W{tag}", name=f"其他部门{tag}", kind=OrgKind.DEPARTMENT,
                        parent=bureau)
        db.session.add_all([dept, unit, other])
        db.session.flush()
        for username, role, org in ((f"x{tag.lower()}", "dept_admin", dept),
                                    (f"w{tag.lower()}", "dept_admin", other)):
            u = User(username=username, full_name=f"经办人{username}", role=roles[role],
                     org_unit=org, session_token=secrets.token_hex(8))
            u.password_hash = User.hash_password(DEMO_PASSWORD)
            db.session.add(u)
        items = {}
        for suffix, (kind, amount) in ITEMS.items():
            item = BudgetItem(code=f"{YEAR}-X{tag}-{suffix}", name=f"公开测试项目{suffix}",
                              fiscal_year_id=fy.id, org_unit_id=unit.id, kind=kind,
                              amount=Decimal(amount))
            db.session.add(item)
            db.session.flush()
            items[suffix] = item.id
        db.session.commit()
        return World(tag, dept.id, dept.code, unit.id, unit.code, f"x{tag.lower()}",
                     f"w{tag.lower()}", items)


def publications(app, world) -> dict[str, int]:
    """Our publications by subject: item suffix, or "R<result id>"."""
    from plugins.disclosure.models import Publication

    by_item = {v: k for k, v in world.items.items()}
    with app.app_context():
        out = {}
        for pub in db.session.scalars(select(Publication).where(
                Publication.department_id == world.dept_id)):
            key = by_item[pub.budget_item_id] if pub.budget_item_id else f"R{pub.result_id}"
            out[f"{pub.kind}:{key}"] = pub.id
        return out


def prepare(client, year=YEAR):
    return run_long_action(client, "/admin/publication/prepare/", year=str(year))


def act(client, action: str, ids, comment: str = ""):
    page = client.get("/admin/publication/")
    return client.post("/admin/publication/action/", data={
        "csrf_token": csrf_from(page.text), "action": action,
        "rowid": [str(i) for i in ids], "comment": comment}, follow_redirects=True)
