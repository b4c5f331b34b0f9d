"""monitoring_round: opening a monitoring round, and computing the district's lights.

Data: the demo database plus 20,000 budget items of 2026 with approved target
sheets and 200,000 indicators (10 per item), bulk-inserted.

1. Opening (the ratio reported): project = ``service.new_round`` +
   ``service.open_round`` — the set-based INSERT … SELECT over the targets
   plugin's ``approved_indicator_select`` through ``core.contracts``, with the
   core's audit of bulk statements; baseline = one hand-written round INSERT and
   two INSERT … SELECT statements (records, indicators) straight from the
   targets tables, producing the same rows. Each turn is rolled back.
2. Lights (``lights`` line): project = ``service.refresh_lights`` on the opened
   round with every record reported (computes and stores every light);
   baseline = the raw SQL aggregate SELECT that computes the same lights without
   storing them (the result is checked to be equal). ``lights_vs_raw_update``
   compares the project with a hand-written raw UPDATE (correlated subqueries).
Both sides run in the same process, taking turns (``interleaved_medians``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import insert, select, text
from support import Figures, Result, demo_app, interleaved_medians, progress, temp_database

NAME = "monitoring_round"
SIZES = {"small": 1_000, "full": 20_000}
PER_ITEM = 10
REPEAT = {"small": 3, "full": 3}
CUTOFF = date(2026, 7, 15)

BASELINE_RECORDS = """
INSERT INTO monitoring_record (round_id, budget_item_id, sheet_id, org_unit_id, budget,
    expected_rate, light, state, review_level, version, created_at, updated_at)
SELECT :rid, s.budget_item_id, s.id, s.org_unit_id, b.amount, 53.70, 0, 'DRAFT', 0, 1,
    CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
FROM target_sheet s JOIN budget_item b ON b.id = s.budget_item_id
JOIN fiscal_year f ON f.id = s.fiscal_year_id
WHERE s.state = 'APPROVED' AND f.year = 2026"""
BASELINE_INDICATORS = """
INSERT INTO monitoring_indicator (record_id, org_unit_id, indicator_id, position, level1,
    level2, name, comparator, target_value, unit)
SELECT r.id, i.org_unit_id, i.id, i.position, i.level1, i.level2, i.name, lower(i.comparator),
    i.target_value, i.unit
FROM target_indicator i JOIN monitoring_record r ON r.sheet_id = i.sheet_id
WHERE r.round_id = :rid"""
AGGREGATE = """
SELECT r.id, CASE WHEN r.spent IS NULL THEN 0
  WHEN MAX(CASE WHEN i.forecast_deviation > 0 OR i.likelihood = 'IMPOSSIBLE' THEN 1 ELSE 0 END) = 1
    OR COALESCE(r.spending_deviation, 0) >= 20 OR COALESCE(MAX(i.progress_deviation), 0) >= 30
    THEN 3
  WHEN COALESCE(r.spending_deviation, 0) >= 10 OR COALESCE(MAX(i.progress_deviation), 0) >= 10
    THEN 2 ELSE 1 END AS light
FROM monitoring_record r LEFT JOIN monitoring_indicator i ON i.record_id = r.id
WHERE r.round_id = :rid GROUP BY r.id, r.spent, r.spending_deviation"""
BASELINE_LIGHTS = """
UPDATE monitoring_record SET
  indicator_deviation = (SELECT MAX(i.progress_deviation) FROM monitoring_indicator i
                         WHERE i.record_id = monitoring_record.id),
  light = CASE WHEN spent IS NULL THEN 0
    WHEN EXISTS (SELECT 1 FROM monitoring_indicator i WHERE i.record_id = monitoring_record.id
                 AND (i.forecast_deviation > 0 OR i.likelihood = 'IMPOSSIBLE'))
      OR COALESCE(spending_deviation, 0) >= 20
      OR COALESCE((SELECT MAX(i.progress_deviation) FROM monitoring_indicator i
                   WHERE i.record_id = monitoring_record.id), 0) >= 30 THEN 3
    WHEN COALESCE(spending_deviation, 0) >= 10
      OR COALESCE((SELECT MAX(i.progress_deviation) FROM monitoring_indicator i
                   WHERE i.record_id = monitoring_record.id), 0) >= 10 THEN 2
    ELSE 1 END
WHERE round_id = :rid"""


def make_items(app, n_items: int) -> None:
    """``n_items`` items with approved sheets of ``PER_ITEM`` indicators each."""
    from core.extensions import db
    from core.models import BudgetItem, FiscalYear, ItemKind, OrgUnit, State
    from plugins.targets.models import Comparator, TargetIndicator, TargetSheet

    with app.app_context():
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        units = db.session.scalars(select(OrgUnit.id).where(OrgUnit.parent_id.is_not(None))
                                   .order_by(OrgUnit.id)).all()
        now = datetime(2026, 1, 5)
        with db.engine.begin() as conn:
            conn.execute(insert(BudgetItem.__table__), [{
                "code": f"2026-BENCH-{n:06d}", "name": f"基准项目{n}", "fiscal_year_id": year.id,
                "org_unit_id": units[n % len(units)], "kind": ItemKind.PROJECT.name,
                "budget_type": "GENERAL_PUBLIC", "amount": Decimal("100000.00"), "version": 1,
                "is_new": False, "is_recurring": False, "is_key_task": False,
                "is_purchase_of_services": False, "created_at": now, "updated_at": now}
                for n in range(n_items)])
            items = conn.execute(select(BudgetItem.id, BudgetItem.org_unit_id).where(
                BudgetItem.code.like("2026-BENCH-%"))).all()
            conn.execute(insert(TargetSheet.__table__), [{
                "budget_item_id": item_id, "fiscal_year_id": year.id, "org_unit_id": org_id,
                "goal": "基准", "rules_code": "", "revision": 1, "state": State.APPROVED.name,
                "review_level": 2, "version": 1, "created_at": now, "updated_at": now}
                for item_id, org_id in items])
            sheets = conn.execute(select(TargetSheet.id, TargetSheet.org_unit_id).join(
                BudgetItem, BudgetItem.id == TargetSheet.budget_item_id).where(
                BudgetItem.code.like("2026-BENCH-%"))).all()
            rows = [{"sheet_id": sheet_id, "org_unit_id": org_id, "position": k,
                     "level1": "产出", "level2": "数量", "name": f"指标{k}",
                     "comparator": Comparator.GE.name, "target_value": str(10 + k),
                     "unit": "个" if k % 2 else "%", "weight": Decimal("10"),
                     "scoring_method": "proportional"}
                    for sheet_id, org_id in sheets for k in range(PER_ITEM)]
            for i in range(0, len(rows), 20_000):
                conn.execute(insert(TargetIndicator.__table__), rows[i:i + 20_000])


def run(scale: str, db_url: str | None) -> Result:
    import tempfile

    n_items = SIZES[scale]
    with temp_database(db_url) as url, tempfile.TemporaryDirectory() as tmp:
        progress("building the demo database")
        app = demo_app(url, tmp)
        progress(f"adding {n_items:,} items with {n_items * PER_ITEM:,} indicators")
        make_items(app, n_items)
        with app.app_context():
            from core.extensions import db
            from core.models import FiscalYear
            from plugins.monitoring import service
            from plugins.monitoring.models import IndicatorProgress, MonitoringRecord

            year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
            counts: dict[str, tuple[int, int]] = {}

            def count(rid: int) -> tuple[int, int]:
                return (db.session.scalar(select(db.func.count(MonitoringRecord.id)).where(
                    MonitoringRecord.round_id == rid)),
                        db.session.scalar(select(db.func.count(IndicatorProgress.id)).join(
                            MonitoringRecord).where(MonitoringRecord.round_id == rid)))

            def project_open():
                rnd = service.new_round(year, "基准批次", date(2026, 1, 1), CUTOFF,
                                        date(2026, 8, 31))
                service.open_round(rnd)
                db.session.flush()
                counts["project"] = count(rnd.id)
                db.session.rollback()

            def baseline_open():
                rid = db.session.execute(text(
                    "INSERT INTO monitoring_round (fiscal_year_id, name, period_start, cutoff, "
                    "due, record_count, created_at, updated_at) VALUES (:y, '基准批次', "
                    ":s, :c, :d, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"),
                    {"y": year.id, "s": date(2026, 1, 1), "c": CUTOFF,
                     "d": date(2026, 8, 31)}).scalar()
                db.session.execute(text(BASELINE_RECORDS), {"rid": rid})
                db.session.execute(text(BASELINE_INDICATORS), {"rid": rid})
                counts["baseline"] = count(rid)
                db.session.rollback()

            progress(f"timing the round opening, {REPEAT[scale]} turns each")
            opening = interleaved_medians({"project": project_open, "baseline": baseline_open},
                                          REPEAT[scale], warmup=1)
            assert counts["project"] == counts["baseline"], counts

            progress("opening a round and reporting every record")
            rnd = service.new_round(year, "基准批次", date(2026, 1, 1), CUTOFF,
                                    date(2026, 8, 31))
            service.open_round(rnd)
            db.session.execute(text(
                "UPDATE monitoring_record SET spent = budget * (id % 10) / 10, "
                "spending_deviation = 53.70 - (id % 10) * 10 WHERE round_id = :rid"),
                {"rid": rnd.id})
            db.session.execute(text(
                "UPDATE monitoring_indicator SET progress_deviation = (id % 7) * 6, "
                "forecast_deviation = CASE WHEN id % 97 = 0 THEN 5 ELSE 0 END, "
                "likelihood = 'CERTAIN' WHERE record_id IN "
                "(SELECT id FROM monitoring_record WHERE round_id = :rid)"), {"rid": rnd.id})
            db.session.commit()
            rid = rnd.id

            def project_lights():
                service.refresh_lights(rid)
                db.session.flush()
                db.session.rollback()

            def baseline_lights():
                db.session.execute(text(BASELINE_LIGHTS), {"rid": rid})
                db.session.rollback()

            def aggregate():
                db.session.execute(text(AGGREGATE), {"rid": rid}).all()
                db.session.rollback()

            progress("timing the lights")
            lights = interleaved_medians({"project": project_lights, "baseline": baseline_lights,
                                          "select": aggregate}, REPEAT[scale], warmup=1)
            service.refresh_lights(rid)
            stored = dict(db.session.execute(select(MonitoringRecord.id, MonitoringRecord.light)
                                             .where(MonitoringRecord.round_id == rid)).all())
            expected = dict(db.session.execute(text(AGGREGATE), {"rid": rid}).all())
            assert stored == expected, "the lights differ from the raw SQL aggregate"
            db.session.rollback()
    records, indicators = counts["project"]
    return Result(opening["project"], opening["baseline"], {
        "records": f"{records:,}", "indicators": f"{indicators:,}",
        "lights": Result(lights["project"], lights["select"]),
        "lights_vs_raw_update": Figures({
            "project": f"{lights['project']:.4f} s", "raw update":
            f"{lights['baseline']:.4f} s",
            "ratio": f"{lights['project'] / lights['baseline']:.2f}"})})
