from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, ItemKind, OrgUnit, State
from tests import support

#: (level1, level2, name, comparator, target, unit)
INDICATORS = [("产出", "数量", "完成数量", "ge", "10", "个"),
              ("产出", "质量", "验收合格率", "ge", "95", "%"),
              ("效益", "社会效益", "服务水平", "qualitative", "明显提升", None)]
CUTOFF = date(2026, 6, 30)


@dataclass
class World:
    """A round (1 January – 30 June 2026) opened on the demo data plus two items of
    unit D01U01 with approved targets (budget 1000.00 each)."""

    round_id: int
    item_ids: list[int]
    codes: list[str]
    record_ids: list[int]


def add_items(n: int, org_code: str = "D01U01", state=State.APPROVED) -> list[tuple[int, str]]:
    """Budget items of 2026 with a target sheet in ``state`` (three indicators each)."""
    from plugins.targets.models import Comparator, TargetIndicator, TargetSheet

    tag = secrets.token_hex(3).upper()
    year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == org_code))
    out = []
    for k in range(n):
        item = BudgetItem(code=f"2026-M{tag}-{k}", name=f"监控测试项目{k}",
                          fiscal_year_id=year.id, org_unit_id=unit.id, kind=ItemKind.PROJECT,
                          amount=Decimal("1000.00"))
        db.session.add(item)
        db.session.flush()
        sheet = TargetSheet(budget_item_id=item.id, fiscal_year_id=year.id,
                            org_unit_id=unit.id, goal="完成任务", rules_code="",
                            state=state, review_level=0, revision=1)
        db.session.add(sheet)
        db.session.flush()
        for pos, (l1, l2, name, cmp, value, unit_name) in enumerate(INDICATORS, start=1):
            db.session.add(TargetIndicator(
                sheet_id=sheet.id, org_unit_id=unit.id, position=pos, level1=l1, level2=l2,
                name=name, comparator=Comparator(cmp), target_value=value, unit=unit_name,
                weight=Decimal("30"), scoring_method="proportional"))
        out.append((item.id, item.code))
    db.session.flush()
    return out


def remove_items(item_ids: list[int]) -> None:
    from plugins.monitoring.models import CorrectiveDecision, MonitoringRecord
    from plugins.targets.models import TargetIndicator, TargetSheet

    sheets = select(TargetSheet.id).where(TargetSheet.budget_item_id.in_(item_ids))
    db.session.execute(delete(CorrectiveDecision).where(
        CorrectiveDecision.budget_item_id.in_(item_ids)))
    db.session.execute(delete(MonitoringRecord).where(
        MonitoringRecord.budget_item_id.in_(item_ids)))
    db.session.execute(delete(TargetIndicator).where(TargetIndicator.sheet_id.in_(sheets)))
    db.session.execute(delete(TargetSheet).where(TargetSheet.budget_item_id.in_(item_ids)))
    db.session.execute(delete(BudgetItem).where(BudgetItem.id.in_(item_ids)))


@pytest.fixture
def world(app):
    from plugins.monitoring import service
    from plugins.monitoring.models import MonitoringRecord, MonitoringRound

    with app.app_context():
        items = add_items(2)
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        rnd = service.new_round(year, "测试批次", date(2026, 1, 1), CUTOFF, date(2026, 7, 31))
        service.open_round(rnd)
        db.session.commit()
        ids = [i for i, _c in items]
        records = dict(db.session.execute(select(
            MonitoringRecord.budget_item_id, MonitoringRecord.id).where(
            MonitoringRecord.round_id == rnd.id, MonitoringRecord.budget_item_id.in_(ids))).all())
        out = World(rnd.id, ids, [c for _i, c in items], [records[i] for i in ids])
    yield out
    with app.app_context():
        db.session.execute(delete(MonitoringRound).where(MonitoringRound.id == out.round_id))
        remove_items(out.item_ids)
        db.session.commit()


def workbook(rows, headers=("项目编码", "累计支出（元）", "超预算说明")) -> bytes:
    return support.workbook(rows, headers, sheet="预算执行")
