"""Demo data: the national January–July round of last year (closed, nearly all accepted) and
of this year (open: reports in every state, lights of every colour, decisions on red items).

Rounds are opened with the real set-based ``open_round``; reports are written
with bulk UPDATEs (values computed by the plugin's ``figures``), so ``seed-demo
--scale district`` stays fast.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, select, update

from core.models import FiscalYear, State, User
from plugins.monitoring import figures, service
from plugins.monitoring.models import (
    DecisionAction,
    IndicatorProgress,
    Light,
    Likelihood,
    MonitoringRecord,
    Reason,
)

MEASURES = ["加快采购进度，倒排时间节点，确保按期完成支付。",
            "调整实施计划，优化资金使用安排。", "督促承接主体加快实施，按月报送进度。"]


def seed_monitoring(session, rng, scale: str) -> None:
    for fy in session.scalars(select(FiscalYear).order_by(FiscalYear.year)):
        name = f"{fy.year}年1-7月绩效运行监控"
        rnd = service.new_round(fy, name, date(fy.year, 1, 1), date(fy.year, 7, 31),
                                date(fy.year, 8, 31))
        service.open_round(rnd)
        session.flush()
        _fill(session, rng, rnd, closed=fy.status != "open")
        service.refresh_lights(rnd.id)
        if fy.status != "open":
            rnd.closed_at = datetime(fy.year, 9, 10, 17, 0)
        else:
            _decide(session, rng, rnd)
    session.flush()


def _state(rng, closed: bool) -> State | None:
    roll = rng.random()
    if closed:
        return State.APPROVED if roll < 0.93 else None
    return None if roll < 0.15 else State.DRAFT if roll < 0.40 else \
        State.SUBMITTED if roll < 0.60 else State.APPROVED


def _fill(session, rng, rnd, closed: bool) -> None:
    share = figures.expected_rate(rnd.period_start, rnd.cutoff)
    records = session.execute(select(MonitoringRecord.id, MonitoringRecord.budget).where(
        MonitoringRecord.round_id == rnd.id).order_by(MonitoringRecord.id)).all()
    indicators: dict[int, list] = {}
    for row in session.execute(select(
            IndicatorProgress.id, IndicatorProgress.record_id, IndicatorProgress.comparator,
            IndicatorProgress.target_value, IndicatorProgress.unit).where(
            IndicatorProgress.record_id.in_(select(MonitoringRecord.id).where(
                MonitoringRecord.round_id == rnd.id)))):
        indicators.setdefault(row.record_id, []).append(row)
    submitted_at = datetime.combine(rnd.due, datetime.min.time()) - timedelta(days=5)
    rec_rows, ind_rows = [], []
    for record_id, budget in records:
        state = _state(rng, closed)
        if state is None:
            continue
        roll = rng.random()
        behind = Decimal(rng.randint(-8, 8)) if roll < 0.7 else \
            Decimal(rng.randint(10, 19)) if roll < 0.9 else Decimal(rng.randint(20, 40))
        rate = max(share - behind, Decimal(0))
        spent = (budget * rate / 100).quantize(Decimal("0.01"))
        missed = roll > 0.96
        for n, ind in enumerate(indicators.get(record_id, [])):
            achieved, forecast = _values(rng, ind, share, missed and n == 0)
            likely = Likelihood.IMPOSSIBLE if missed and n == 0 else \
                Likelihood.POSSIBLE if behind >= 10 else Likelihood.CERTAIN
            progress, fore = figures.deviations(
                ind.comparator, ind.target_value, ind.unit, figures.number(achieved),
                figures.number(forecast), share)
            ind_rows.append({"id": ind.id, "achieved": achieved, "forecast": forecast,
                             "likelihood": likely, "progress_deviation": progress,
                             "forecast_deviation": fore,
                             "reason": Reason.PROCUREMENT_DELAY if missed and n == 0 else None})
        late = behind >= 10 or missed
        rate_exact = figures.execution_rate(spent, budget) or Decimal(0)
        rec_rows.append({
            "rid": record_id, "v_spent": spent, "v_rate": rate_exact,
            "v_dev": figures.pct(share - rate_exact), "v_state": state,
            "v_submitted": submitted_at if state != State.DRAFT else None,
            "v_reason": rng.choice([Reason.PROCUREMENT_DELAY.value, Reason.PLAN_CHANGE.value,
                                    Reason.POLICY_CHANGE.value]) if late else None,
            "v_measures": rng.choice(MEASURES) if late else None,
            "v_due": date(rnd.cutoff.year, 10, 31) if late else None})
    if rec_rows:
        c = MonitoringRecord.__table__.c
        session.execute(update(MonitoringRecord.__table__).where(c.id == bindparam("rid")).values(
            spent=bindparam("v_spent"), execution_rate=bindparam("v_rate"),
            spending_deviation=bindparam("v_dev"), state=bindparam("v_state"),
            submitted_at=bindparam("v_submitted"), reason=bindparam("v_reason"),
            measures=bindparam("v_measures"), measures_due=bindparam("v_due")), rec_rows)
    for i in range(0, len(ind_rows), 5000):
        session.execute(update(IndicatorProgress), ind_rows[i:i + 5000])


def _values(rng, ind, share: Decimal, missed: bool) -> tuple[str, str]:
    if ind.comparator == "qualitative":
        return "按计划推进", "基本达到" if missed else ind.target_value
    target = figures.number(ind.target_value.partition("-")[0]) or Decimal(0)
    if ind.unit == "%":
        achieved = target - Decimal(rng.randint(0, 3))
        return str(max(achieved, Decimal(0))), str(target - 10 if missed else target)
    achieved = (target * share / 100 * Decimal(rng.choice(["0.95", "1", "1", "1.1"]))).quantize(
        Decimal("1"))
    return str(achieved), str((target / 2).quantize(Decimal("1")) if missed else target)


def _decide(session, rng, rnd) -> None:
    """A few of the bureau's decisions on red items: approved, submitted, a draft."""
    finance = session.scalar(select(User).where(User.username == "finance"))
    red = session.scalars(select(MonitoringRecord).where(
        MonitoringRecord.round_id == rnd.id, MonitoringRecord.light == int(Light.RED))
        .order_by(MonitoringRecord.id).limit(4)).all()
    plans = [(DecisionAction.RECTIFICATION, "approve"), (DecisionAction.SUSPEND_PAYMENTS,
                                                         "approve"),
             (DecisionAction.ADJUST_BUDGET, "submit"), (DecisionAction.STOP_PROJECT, None)]
    for record, (action, step) in zip(red, plans, strict=False):
        new_budget = (record.budget * Decimal("0.8")).quantize(Decimal("0.01")) \
            if action == DecisionAction.ADJUST_BUDGET else None
        decision = service.new_decision(
            record, action.value, "执行进度严重滞后，经研究作出纠偏决定。", finance,
            new_budget=new_budget, due=date(rnd.cutoff.year, 10, 31)
            if action == DecisionAction.RECTIFICATION else None)
        if step is not None:
            service.decide(decision, "submit", finance)
        if step == "approve":
            service.decide(decision, "approve", finance)
