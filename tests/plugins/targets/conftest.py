from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, ItemKind
from tests import support

HEADERS = ["项目编码", "项目名称", "总体目标", "一级指标", "二级指标", "三级指标", "比较符", "指标值",
           "计量单位", "权重", "评分方法", "数据来源", "全周期指标值"]


def good_rows(code: str) -> list[list]:
    return [
        [code, "", "完成建设任务", "产出", "数量", "完成数量", "≥", 10, "个", 40, "", "", ""],
        [code, "", "", "效益", "社会效益", "服务水平", "定性", "明显提升", "", 30, "", "", ""],
        [code, "", "", "满意度", "服务对象满意度", "满意度", "≥", 90, "%", 30, "", "", ""],
    ]


def workbook(rows, headers=HEADERS, sheet="绩效目标", edit=None) -> bytes:
    return support.workbook(rows, headers, sheet=sheet, edit=edit)


@pytest.fixture
def draft_items(app):
    """Three new 2026 project items of unit D01U01 without targets (removed afterwards)."""
    import secrets

    from sqlalchemy import delete

    from core.models import OrgUnit, WorkflowEvent
    from plugins.targets.models import TargetIndicator, TargetRevision, TargetSheet

    tag = secrets.token_hex(3).upper()
    with app.app_context():
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
        items = [BudgetItem(code=f"2026-T5{tag}-{n}", name=f"测试项目{n}", fiscal_year_id=year.id,
                            org_unit_id=unit.id, kind=ItemKind.PROJECT, amount=Decimal("1000.00"))
                 for n in range(3)]
        db.session.add_all(items)
        db.session.commit()
        out = [(i.id, i.code) for i in items]
    yield out
    with app.app_context():
        ids = [i for i, _c in out]
        sheet_ids = list(db.session.scalars(select(TargetSheet.id).where(
            TargetSheet.budget_item_id.in_(ids))))
        db.session.execute(delete(TargetIndicator).where(TargetIndicator.sheet_id.in_(sheet_ids)))
        db.session.execute(delete(TargetRevision).where(TargetRevision.sheet_id.in_(sheet_ids)))
        db.session.execute(delete(WorkflowEvent).where(WorkflowEvent.object_type == "target_sheet",
                                                       WorkflowEvent.object_id.in_(sheet_ids)))
        db.session.execute(delete(TargetSheet).where(TargetSheet.id.in_(sheet_ids)))
        db.session.execute(delete(BudgetItem).where(BudgetItem.id.in_(ids)))
        db.session.commit()


def money(value) -> Decimal:
    return Decimal(str(value))
