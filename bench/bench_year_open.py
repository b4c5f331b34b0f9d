"""year_open: opening the next fiscal year for a district's continuing projects.

Data: the demo database plus 20,000 projects with their budget items of 2026, each with
an approved target sheet of 10 indicators (200,000), bulk-inserted.

Project = ``plugins.system.year_open.open_year(2027)``: the fiscal year and its
deadlines, the continuing projects' items in one INSERT … SELECT (skipping any that
exist: it is idempotent), their status, and through ``jixiao_year_opened`` the targets
plugin's two INSERT … SELECT statements copying the approved sheets as drafts, with the
core's audit of bulk statements. Baseline = the same rows by hand-written SQL: the year,
its deadlines, items, project status, sheets and indicators as plain INSERT … SELECT
without the idempotency checks. Both are rolled back each turn, taking turns
(``interleaved_medians``); the rows they produce are checked to be the same.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, insert, select, text
from support import Result, demo_app, interleaved_medians, progress, temp_database

NAME = "year_open"
SIZES = {"small": 1_000, "full": 20_000}
PER_ITEM = 10
REPEAT = {"small": 3, "full": 3}

BASELINE = [
    """INSERT INTO stage_deadline (fiscal_year_id, stage, due)
       SELECT :fy, stage, due FROM stage_deadline WHERE fiscal_year_id = :prev""",
    """INSERT INTO budget_item (code, fiscal_year_id, name, org_unit_id, kind, budget_type,
           is_recurring, is_key_task, is_purchase_of_services, contractor, description,
           project_id, amount, is_new, version, created_at, updated_at)
       SELECT p.code, :fy, b.name, b.org_unit_id, b.kind, b.budget_type, b.is_recurring,
           b.is_key_task, b.is_purchase_of_services, b.contractor, b.description, p.id,
           CASE WHEN p.request_year = 2027 AND p.request_amount IS NOT NULL
                THEN p.request_amount ELSE b.amount END,
           FALSE, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
       FROM budget_item b JOIN project p ON p.id = b.project_id
       WHERE b.fiscal_year_id = :prev AND p.start_year <= 2027
         AND (p.end_year IS NULL OR p.end_year >= 2027)""",
    """UPDATE project SET status = CASE WHEN end_year = 2027 THEN 'ENDING' ELSE 'CONTINUING'
           END, version = version + 1
       WHERE id IN (SELECT project_id FROM budget_item WHERE fiscal_year_id = :fy)""",
    """INSERT INTO target_sheet (budget_item_id, fiscal_year_id, org_unit_id, goal,
           period_goal, rules_code, revision, state, review_level, version, created_at,
           updated_at, carried_from_id)
       SELECT n.id, :fy, n.org_unit_id, s.goal, s.period_goal, s.rules_code, 0, 'DRAFT', 0,
           1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, s.id
       FROM target_sheet s JOIN budget_item o ON o.id = s.budget_item_id
       JOIN budget_item n ON n.project_id = o.project_id AND n.fiscal_year_id = :fy
       WHERE s.fiscal_year_id = :prev AND s.state = 'APPROVED'""",
    """INSERT INTO target_indicator (sheet_id, org_unit_id, position, level1, level2, name,
           comparator, target_value, period_value, unit, weight, data_source, scoring_method,
           template_id)
       SELECT t.id, t.org_unit_id, i.position, i.level1, i.level2, i.name, i.comparator,
           i.target_value, i.period_value, i.unit, i.weight, i.data_source, i.scoring_method,
           i.template_id
       FROM target_sheet t JOIN target_indicator i ON i.sheet_id = t.carried_from_id
       WHERE t.fiscal_year_id = :fy""",
]


def make_projects(app, n_items: int) -> None:
    """``n_items`` projects, each with an item of 2026 and an approved sheet of
    ``PER_ITEM`` indicators."""
    from core.extensions import db
    from core.models import BudgetItem, FiscalYear, ItemKind, OrgUnit, Project, State
    from plugins.targets.models import Comparator, TargetIndicator, TargetSheet

    with app.app_context():
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        units = db.session.scalars(select(OrgUnit.id).where(OrgUnit.parent_id.is_not(None))
                                   .order_by(OrgUnit.id)).all()
        now = datetime(2026, 1, 5)
        with db.engine.begin() as conn:
            conn.execute(insert(Project.__table__), [{
                "code": f"2026-BENCH-{n:06d}", "name": f"基准项目{n}",
                "org_unit_id": units[n % len(units)], "kind": ItemKind.PROJECT.name,
                "status": "CONTINUING", "start_year": 2024, "end_year": None, "version": 1,
                "request_year": 2027 if n % 5 == 0 else None,
                "request_amount": Decimal("120000.00") if n % 5 == 0 else None,
                "created_at": now, "updated_at": now} for n in range(n_items)])
            projects = conn.execute(select(Project.id, Project.code, Project.org_unit_id).where(
                Project.code.like("2026-BENCH-%"))).all()
            conn.execute(insert(BudgetItem.__table__), [{
                "code": code, "name": f"基准项目{pid}", "fiscal_year_id": year.id,
                "org_unit_id": org_id, "project_id": pid, "kind": ItemKind.PROJECT.name,
                "budget_type": "GENERAL_PUBLIC", "amount": Decimal("100000.00"), "version": 1,
                "is_new": False, "is_recurring": True, "is_key_task": False,
                "is_purchase_of_services": False, "created_at": now, "updated_at": now}
                for pid, code, org_id in projects])
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
                     "unit": "个", "weight": Decimal("10"), "scoring_method": "proportional"}
                    for sheet_id, org_id in sheets for k in range(PER_ITEM)]
            for i in range(0, len(rows), 20_000):
                conn.execute(insert(TargetIndicator.__table__), rows[i:i + 20_000])


def run(scale: str, db_url: str | None) -> Result:
    import tempfile

    n_items = SIZES[scale]
    with temp_database(db_url) as url, tempfile.TemporaryDirectory() as tmp:
        progress("building the demo database")
        app = demo_app(url, tmp)
        progress(f"adding {n_items:,} projects with {n_items * PER_ITEM:,} indicators")
        make_projects(app, n_items)
        with app.app_context():
            from core.audit import actor_var
            from core.extensions import db
            from core.models import BudgetItem, FiscalYear
            from plugins.system.year_open import open_year
            from plugins.targets.models import TargetIndicator, TargetSheet

            prev = db.session.scalar(select(FiscalYear.id).where(FiscalYear.year == 2026))
            counts: dict[str, tuple[int, int, int]] = {}

            def count() -> tuple[int, int, int]:
                fy = select(FiscalYear.id).where(FiscalYear.year == 2027).scalar_subquery()
                return (db.session.scalar(select(func.count(BudgetItem.id)).where(
                    BudgetItem.fiscal_year_id == fy)),
                        db.session.scalar(select(func.count(TargetSheet.id)).where(
                            TargetSheet.fiscal_year_id == fy)),
                        db.session.scalar(select(func.count(TargetIndicator.id)).join(
                            TargetSheet).where(TargetSheet.fiscal_year_id == fy)))

            def project():
                open_year(2027)
                db.session.flush()
                counts["project"] = count()
                db.session.rollback()

            def baseline():
                fy = db.session.execute(text(
                    "INSERT INTO fiscal_year (year, name, status, created_at, updated_at) "
                    "VALUES (2027, '2027年度', 'open', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) "
                    "RETURNING id")).scalar()
                for sql in BASELINE:
                    db.session.connection().execute(text(sql), {"fy": fy, "prev": prev})
                counts["baseline"] = count()
                db.session.rollback()

            token = actor_var.set((None, "bench"))
            try:
                progress(f"timing the year opening, {REPEAT[scale]} turns each")
                times = interleaved_medians({"project": project, "baseline": baseline},
                                            REPEAT[scale], warmup=1)
            finally:
                actor_var.reset(token)
            assert counts["project"] == counts["baseline"], counts
    items, sheets, indicators = counts["project"]
    return Result(times["project"], times["baseline"], {
        "items": f"{items:,}", "sheets": f"{sheets:,}", "indicators": f"{indicators:,}"})
