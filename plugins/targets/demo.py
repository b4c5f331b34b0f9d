"""Demo data: an indicator library and target sheets for most demo items.

Most items of the closed year are approved; this year's are spread over the
workflow (approved, in review at either level, returned with comments on an
indicator, draft, none yet), and about one in ten was submitted after the
targets deadline (late). Written with bulk statements so ``seed-demo --scale
district`` stays fast.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select, update

from core.models import BudgetItem, FiscalYear, State, WorkflowEvent, utcnow
from plugins.targets.models import (
    Comparator,
    IndicatorTemplate,
    TargetIndicator,
    TargetRevision,
    TargetSheet,
)
from plugins.targets.rules import rules_for_year

GE, LE, QUAL = Comparator.GE, Comparator.LE, Comparator.QUALITATIVE
#: (level1, level2, name, comparator, unit, reference value, method)
LIBRARY = {
    "通用": [
        ("产出", "数量", "完成项目数量", GE, "个", "1", "proportional"),
        ("产出", "质量", "验收合格率", GE, "%", "95", "proportional"),
        ("产出", "时效", "完成及时率", GE, "%", "100", "proportional"),
        ("产出", "成本", "成本控制率", LE, "%", "100", "reverse"),
        ("效益", "社会效益", "公共服务水平", QUAL, None, "明显提升", "qualitative"),
        ("效益", "可持续影响", "长效管理机制", QUAL, None, "建立健全", "qualitative"),
        ("满意度", "服务对象满意度", "服务对象满意度", GE, "%", "90", "proportional"),
    ],
    "教育": [
        ("产出", "数量", "受益学生人数", GE, "人", "1000", "proportional"),
        ("产出", "质量", "教学设备完好率", GE, "%", "98", "proportional"),
        ("效益", "社会效益", "义务教育巩固率", GE, "%", "99", "proportional"),
        ("满意度", "服务对象满意度", "学生及家长满意度", GE, "%", "90", "proportional"),
    ],
    "卫生健康": [
        ("产出", "数量", "服务人次", GE, "人次", "5000", "proportional"),
        ("产出", "质量", "诊疗规范率", GE, "%", "95", "proportional"),
        ("效益", "社会效益", "居民健康素养水平", GE, "%", "35", "proportional"),
        ("满意度", "服务对象满意度", "患者满意度", GE, "%", "90", "proportional"),
    ],
    "城市管理": [
        ("产出", "数量", "设施维护面积", GE, "平方米", "10000", "proportional"),
        ("产出", "时效", "问题处置时限", LE, "天", "3", "reverse"),
        ("效益", "生态效益", "绿化覆盖率", GE, "%", "40", "proportional"),
        ("效益", "经济效益", "节约运行成本", GE, "万元", "10", "proportional"),
        ("满意度", "服务对象满意度", "市民满意度", GE, "%", "85", "proportional"),
    ],
}
#: the demo sheet: (library sector, name, weight, target value)
SHEET = [("通用", "完成项目数量", 30), ("通用", "验收合格率", 20), ("通用", "完成及时率", 10),
         ("通用", "公共服务水平", 30), ("通用", "服务对象满意度", 10)]
GOALS = ["按计划完成{name}各项任务，提升服务保障水平。", "保障{name}有序实施，资金使用规范高效。"]


def seed_targets(session, rng, scale: str) -> None:
    now = utcnow()
    templates = {}
    for sector, rows in LIBRARY.items():
        for level1, level2, name, comparator, unit, ref, method in rows:
            t = IndicatorTemplate(sector=sector, level1=level1, level2=level2, name=name,
                                  comparator=comparator, unit=unit, reference_value=ref,
                                  scoring_method=method, usage_count=0,
                                  data_source="项目实施单位统计台账")
            session.add(t)
            templates[(sector, name)] = t
    session.flush()
    years = {fy.id: fy for fy in session.scalars(select(FiscalYear))}
    items = session.execute(select(BudgetItem.id, BudgetItem.org_unit_id, BudgetItem.name,
                                   BudgetItem.fiscal_year_id).order_by(BudgetItem.id)).all()
    plans = []
    for item_id, org_id, name, year_id in items:
        fy = years[year_id]
        roll = rng.random()
        if fy.status != "open":
            state, level = (State.APPROVED, 2) if roll < 0.95 else (State.DRAFT, 0)
        elif roll < 0.08:
            continue  # no targets yet
        elif roll < 0.55:
            state, level = State.APPROVED, 2
        elif roll < 0.67:
            state, level = State.SUBMITTED, 0
        elif roll < 0.75:
            state, level = State.SUBMITTED, 1
        elif roll < 0.86:
            state, level = State.RETURNED, 0
        else:
            state, level = State.DRAFT, 0
        due = fy.deadline("targets")
        submitted = None
        if state != State.DRAFT and due is not None:
            late = rng.random() < 0.1
            submitted = datetime.combine(due, datetime.min.time()) + timedelta(
                days=rng.randint(1, 20) if late else -rng.randint(0, 25), hours=rng.randint(8, 17))
        plans.append((item_id, org_id, rng.choice(GOALS).format(name=name), fy, state, level,
                      submitted))
    sheet_rows = [{
        "budget_item_id": item_id, "fiscal_year_id": fy.id, "org_unit_id": org_id,
        "goal": goal, "rules_code": rules_for_year(fy.year).code,
        "revision": 0 if submitted is None else 1, "submitted_at": submitted, "state": state,
        "review_level": level, "version": 1, "created_at": now, "updated_at": now}
        for item_id, org_id, goal, fy, state, level, submitted in plans]
    for i in range(0, len(sheet_rows), 5000):
        session.execute(insert(TargetSheet), sheet_rows[i:i + 5000])
    sheet_ids = dict(session.execute(select(TargetSheet.budget_item_id, TargetSheet.id)).all())
    indicators, revisions, events = [], [], []
    for item_id, org_id, goal, _fy, state, _level, submitted in plans:
        sheet_id = sheet_ids[item_id]
        snap = []
        for position, (sector, tname, weight) in enumerate(SHEET, start=1):
            t = templates[(sector, tname)]
            value = t.reference_value
            if t.comparator == GE and t.unit == "个":
                value = str(rng.randint(1, 30))
            comment = None
            if state == State.RETURNED and position == 1:
                comment = "数量指标偏低，请结合历史完成情况上调。"
            indicators.append({
                "sheet_id": sheet_id, "org_unit_id": org_id, "position": position,
                "level1": t.level1, "level2": t.level2, "name": t.name,
                "comparator": t.comparator, "target_value": value, "unit": t.unit,
                "weight": Decimal(weight), "data_source": t.data_source,
                "scoring_method": t.scoring_method, "template_id": t.id,
                "review_comment": comment, "period_value": None})
            snap.append({"level1": t.level1, "level2": t.level2, "name": t.name,
                         "comparator": t.comparator.value, "target_value": value,
                         "period_value": "", "unit": t.unit or "", "weight": str(weight),
                         "data_source": t.data_source or "", "scoring_method": t.scoring_method})
        if submitted is None:
            continue
        if state == State.RETURNED:  # the unit has since raised the quantity target
            snap[0] = {**snap[0], "target_value": str(max(1, int(snap[0]["target_value"]) - 1))}
        revisions.append({"sheet_id": sheet_id, "number": 1, "org_unit_id": org_id,
                          "data": {"goal": goal, "period_goal": "", "indicators": snap},
                          "user_id": None, "created_at": submitted})
        steps = [("submit", "draft", "submitted", 0)]
        if state == State.RETURNED:
            steps.append(("return", "submitted", "returned", 0))
        elif state == State.SUBMITTED and _level == 1:
            steps.append(("approve", "submitted", "submitted", 0))
        elif state == State.APPROVED:
            steps += [("approve", "submitted", "submitted", 0),
                      ("approve", "submitted", "approved", 1)]
        for n, (action, old, new, level) in enumerate(steps):
            events.append({"object_type": "target_sheet", "object_id": sheet_id,
                           "action": action, "from_state": old, "to_state": new,
                           "level": level, "user_id": None,
                           "comment": "数量指标偏低，请结合历史完成情况上调。"
                           if action == "return" else "",
                           "at": submitted + timedelta(days=n * 2)})
    for rows, model in ((indicators, TargetIndicator), (revisions, TargetRevision),
                        (events, WorkflowEvent)):
        for i in range(0, len(rows), 5000):
            session.execute(insert(model), rows[i:i + 5000])
    # the library shows how often each indicator is used
    for template_id, count in session.execute(
            select(TargetIndicator.template_id, func.count()).where(
                TargetIndicator.template_id.is_not(None))
            .group_by(TargetIndicator.template_id)).all():
        session.execute(update(IndicatorTemplate).where(IndicatorTemplate.id == template_id)
                        .values(usage_count=count))
    session.flush()
