from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.support import token_headers


class TokenClient:
    """A test client that sends a personal API token with every request."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, url, **kwargs):
        return self.client.get(url, headers=self.headers, **kwargs)

    def post(self, url, **kwargs):
        return self.client.post(url, headers=self.headers, **kwargs)


@pytest.fixture
def api_as(app):
    def make(username: str, the_app=None) -> TokenClient:
        target = the_app or app
        return TokenClient(target.test_client(), token_headers(target, username))

    return make


@pytest.fixture
def target_item(app):
    """A new 2025 project of unit D01U01 with approved targets (removed afterwards).

    Its target sheet: 完成数量 ≥ 100 个 (40), 差错率 ≤ 5 % (20), 服务水平 qualitative (30),
    满意度 ≥ 90 % (10) — 100 points over outputs 60, outcomes 30, satisfaction 10.
    Returns ``make(approved=True) -> item id``; ``amount`` is the item's budget and
    ``satisfaction`` the comparator and target value of 满意度 (e.g. ``("range", "90-100")``).
    """
    import secrets
    from decimal import Decimal

    from sqlalchemy import delete

    from core.models import (
        BudgetItem,
        FiscalYear,
        ItemKind,
        OrgUnit,
        ScoreRecord,
        State,
        WorkflowEvent,
    )
    from plugins.evaluation.models import ResultSuggestion, SelfEvaluation, SelfEvaluationLine
    from plugins.targets.models import TargetIndicator, TargetSheet

    made: list[int] = []

    def make(approved: bool = True, org: str = "D01U01", amount: str = "2000000.00",
             satisfaction: tuple[str, str] = ("ge", "90")) -> int:
        tag = secrets.token_hex(3).upper()
        with app.app_context():
            year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2025))
            unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == org))
            item = BudgetItem(code=f"2025-E{tag}", name=f"评价测试项目{tag}",
                              fiscal_year_id=year.id, org_unit_id=unit.id,
                              kind=ItemKind.PROJECT, amount=Decimal(amount))
            db.session.add(item)
            db.session.flush()
            sheet = TargetSheet(budget_item_id=item.id, fiscal_year_id=year.id,
                                org_unit_id=unit.id, goal="完成任务", rules_code="targets-2021",
                                state=State.APPROVED if approved else State.DRAFT,
                                review_level=2 if approved else 0, revision=1)
            for pos, (l1, l2, name, comp, value, unit_, weight, method) in enumerate([
                    ("产出", "数量", "完成数量", "ge", "100", "个", 40, "proportional"),
                    ("产出", "质量", "差错率", "le", "5", "%", 20, "reverse"),
                    ("效益", "社会效益", "服务水平", "qualitative", "明显提升", None, 30,
                     "qualitative"),
                    ("满意度", "服务对象满意度", "满意度", *satisfaction, "%", 10, "proportional"),
            ], start=1):
                sheet.indicators.append(TargetIndicator(
                    position=pos, org_unit_id=unit.id, level1=l1, level2=l2, name=name,
                    comparator=comp, target_value=value, unit=unit_, weight=Decimal(weight),
                    scoring_method=method))
            db.session.add(sheet)
            db.session.commit()
            made.append(item.id)
            return item.id

    yield make
    with app.app_context():
        evs = list(db.session.scalars(select(SelfEvaluation.id).where(
            SelfEvaluation.budget_item_id.in_(made))))
        db.session.execute(delete(ScoreRecord).where(ScoreRecord.object_type == "self_evaluation",
                                                     ScoreRecord.object_id.in_(evs)))
        db.session.execute(delete(ResultSuggestion).where(ResultSuggestion.evaluation_id.in_(evs)))
        db.session.execute(delete(WorkflowEvent).where(
            WorkflowEvent.object_type == "self_evaluation", WorkflowEvent.object_id.in_(evs)))
        db.session.execute(delete(SelfEvaluationLine).where(
            SelfEvaluationLine.evaluation_id.in_(evs)))
        db.session.execute(delete(SelfEvaluation).where(SelfEvaluation.id.in_(evs)))
        sheets = list(db.session.scalars(select(TargetSheet.id).where(
            TargetSheet.budget_item_id.in_(made))))
        db.session.execute(delete(TargetIndicator).where(TargetIndicator.sheet_id.in_(sheets)))
        db.session.execute(delete(TargetSheet).where(TargetSheet.id.in_(sheets)))
        db.session.execute(delete(BudgetItem).where(BudgetItem.id.in_(made)))
        db.session.commit()


def evaluation_of(item_id: int):
    from plugins.evaluation.models import SelfEvaluation

    return db.session.scalar(select(SelfEvaluation).where(
        SelfEvaluation.budget_item_id == item_id))
