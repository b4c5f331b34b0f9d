"""A department of our own with items of the demo's open year, and a stand-in for the
evaluation plugin that answers the contract (``core.contracts``) and broadcasts
``jixiao_evaluation_finalized`` — the catalogue is tested against the contract only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.contracts import EvaluationResult
from core.extensions import db
from core.models import BudgetItem, FiscalYear, ItemKind, OrgKind, OrgUnit, Role, User
from core.plugins import hookimpl, hooks
from plugins.system.demo import DEMO_PASSWORD
from tests.support import evaluation_result, registered

YEAR = 2026  # the demo's open year

#: (code suffix, kind, amount, recurring, key task)
ITEMS = [
    ("BIG", ItemKind.PROJECT, "12000000.00", True, False),
    ("EDGE", ItemKind.PROJECT, "10000000.00", True, False),
    ("JUST-UNDER", ItemKind.PROJECT, "9999999.99", True, False),
    ("ONE-OFF", ItemKind.PROJECT, "50000000.00", False, False),
    ("KEY", ItemKind.POLICY, "1000000.00", False, True),
    ("SMALL", ItemKind.PROJECT, "300000.00", False, False),
]


class FakeEvaluations:
    """Answers ``jixiao_evaluation_results`` like the evaluation plugin would."""

    def __init__(self):
        self.results: list[EvaluationResult] = []

    @hookimpl
    def jixiao_evaluation_results(self, year, item_ids, kinds):
        return [r for r in self.results
                if (year is None or r.fiscal_year == year)
                and (item_ids is None or set(r.budget_item_ids) & set(item_ids))
                and (kinds is None or r.kind in kinds)]


def result(item_ids, *, year=YEAR, kind="department_key", org_unit_id=0, score="88.50",
           grade="B", amount="1.00") -> EvaluationResult:
    return evaluation_result(item_ids, year=year, kind=kind, org_unit_id=org_unit_id,
                             score=score, grade=grade, amount=amount)


@pytest.fixture
def evaluations(app):
    with registered(app, FakeEvaluations()) as fake:
        yield fake


def finalize(app, evaluation: EvaluationResult) -> None:
    """What the evaluation plugin does when an evaluation becomes final."""
    with app.app_context():
        hooks(app).evaluation_finalized(evaluation=evaluation)
        db.session.commit()


@dataclass
class World:
    tag: str
    dept_id: int
    dept_code: str
    unit_id: int
    other_dept_id: int
    user: str
    other_user: str
    unit_user: str
    items: dict[str, int] = field(default_factory=dict)


def _user(username, role, org, roles):
    u = User(username=username, full_name=f"测试用户{username}", role=roles[role], org_unit=org,
             session_token=secrets.token_hex(8))
    u.password_hash = User.hash_password(DEMO_PASSWORD)
    db.session.add(u)


@pytest.fixture
def world(app) -> World:
    """A new department with a unit, its dept_admin and unit_user, another department
    with its dept_admin, and the ITEMS in the unit for the demo's open year."""
    tag = secrets.token_hex(3).upper()
    with app.app_context():
        bureau = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "CZJ"))
        fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == YEAR))
        roles = {r.name: r for r in db.session.scalars(select(Role))}
        dept = OrgUnit(code=f"Z{tag}", name=f"测试部门{tag}", kind=OrgKind.DEPARTMENT,
                       parent=bureau)
        unit = OrgUnit(code=f"Z{tag}U1", name=f"测试单位{tag}", kind=OrgKind.UNIT, parent=dept)
        other = OrgUnit(code=f"Y{tag}", name=f"另一部门{tag}", kind=OrgKind.DEPARTMENT,
                        parent=bureau)
        db.session.add_all([dept, unit, other])
        db.session.flush()
        _user(f"z{tag.lower()}", "dept_admin", dept, roles)
        _user(f"y{tag.lower()}", "dept_admin", other, roles)
        _user(f"u{tag.lower()}", "unit_user", unit, roles)
        items = {}
        for suffix, kind, amount, recurring, key in ITEMS:
            item = BudgetItem(code=f"{YEAR}-Z{tag}-{suffix}", name=f"测试项目{suffix}",
                              fiscal_year_id=fy.id, org_unit_id=unit.id, kind=kind,
                              amount=Decimal(amount), is_recurring=recurring, is_key_task=key)
            db.session.add(item)
            db.session.flush()
            items[suffix] = item.id
        db.session.commit()
        return World(tag, dept.id, dept.code, unit.id, other.id, f"z{tag.lower()}",
                     f"y{tag.lower()}", f"u{tag.lower()}", items)
