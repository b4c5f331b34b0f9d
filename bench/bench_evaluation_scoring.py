"""evaluation_scoring: scoring every self-evaluation of a district year (20,000 × 10 indicators).

Project: ``plugins.evaluation.year.score_year`` — what ``flask jixiao evaluation
score --year Y`` runs: read the evaluations and their lines as plain rows
(``core.services.bulk``), score each sheet from its rows with the methods' own points
functions, checking every field and the rule version (anything not plain goes
through ``sheet.score_sheet``, the stateless API's code), then one audited
``executemany`` per 2,000 evaluations writing score and grade, checking and
bumping each evaluation's version (one digest entry per statement).
Baseline: a hand-written pass with raw DB-API queries on the same rows: one
SELECT of the evaluations, one of the lines, the default formulas in plain
``Decimal`` code, one ``executemany`` UPDATE of score and grade.
Both run in the same process on the same database, taking turns, each inside a
transaction that is rolled back, so every turn starts from the same rows; each
is timed from its first statement to its last (reading back the project's
scores for the check is not timed). The scores of both must be identical
(checked on every evaluation).
"""

from __future__ import annotations

import decimal
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import insert, select
from support import Figures, Result, demo_app, progress, temp_database

NAME = "evaluation_scoring"
SIZES = {"small": 2_000, "full": 20_000}
REPEAT = {"small": 3, "full": 3}
YEAR = 2024
#: level1, level2, name, comparator, target, weight, method, actual (or grade, ratio)
LINES = [
    ("产出", "数量", "完成数量", "ge", "100", "20.00", "proportional", ("97", None, None)),
    ("产出", "数量", "覆盖人数", "ge", "5000", "10.00", "proportional", ("5200", None, None)),
    ("产出", "质量", "合格率", "ge", "95", "10.00", "proportional", ("93.5", None, None)),
    ("产出", "时效", "完成时限", "le", "12", "5.00", "reverse", ("13", None, None)),
    ("产出", "成本", "单位成本", "le", "300", "5.00", "reverse", ("280", None, None)),
    ("效益", "社会效益", "服务水平", "qualitative", "明显提升", "10.00", "qualitative",
     (None, "achieved", "0.9")),
    ("效益", "经济效益", "节约资金", "eq", "50", "10.00", "equal", ("45", None, None)),
    ("效益", "生态效益", "环境改善", "qualitative", "改善", "5.00", "qualitative",
     (None, "partly", None)),
    ("效益", "可持续影响", "长效机制", "qualitative", "建立", "5.00", "qualitative",
     (None, "achieved", None)),
    ("满意度", "服务对象满意度", "满意度", "ge", "90", "10.00", "proportional", ("86", None, None)),
]


def build(app, n_items: int) -> None:
    """``n_items`` budget items of year 2024, each with a self-evaluation of 10 lines."""
    from core.extensions import db
    from core.models import BudgetItem, FiscalYear, OrgUnit, State
    from plugins.evaluation.models import SelfEvaluation, SelfEvaluationLine

    with app.app_context():
        fy = FiscalYear(year=YEAR, name=f"{YEAR}年度", status="closed")
        db.session.add(fy)
        db.session.commit()
        units = list(db.session.scalars(select(OrgUnit.id).where(OrgUnit.kind == "unit")))
        with db.engine.begin() as conn:
            items = [{"code": f"{YEAR}-BENCH-{n:06d}", "name": f"基准项目{n}",
                      "fiscal_year_id": fy.id, "org_unit_id": units[n % len(units)],
                      "kind": "project", "budget_type": "general_public",
                      "amount": Decimal(100000 + n), "version": 1, "is_new": False,
                      "is_recurring": False, "is_key_task": False,
                      "is_purchase_of_services": False} for n in range(n_items)]
            conn.execute(insert(BudgetItem.__table__), items)
            item_ids = list(conn.execute(select(BudgetItem.id).where(
                BudgetItem.fiscal_year_id == fy.id).order_by(BudgetItem.id)).scalars())
            evs = [{"budget_item_id": item_id, "fiscal_year_id": fy.id,
                    "org_unit_id": units[n % len(units)], "target_sheet_id": 0,
                    "object_kind": "project", "rule_code": "self-evaluation-2020",
                    "budget": Decimal(100000 + n), "spent": Decimal(80000 + 3 * n),
                    "execution_weight": Decimal(10), "state": State.DRAFT.value,
                    "review_level": 0, "version": 1, "summary": ""}
                   for n, item_id in enumerate(item_ids)]
            conn.execute(insert(SelfEvaluation.__table__), evs)
            ev_ids = list(conn.execute(select(SelfEvaluation.id).where(
                SelfEvaluation.fiscal_year_id == fy.id).order_by(SelfEvaluation.id)).scalars())
            lines = []
            for n, ev_id in enumerate(ev_ids):
                for pos, (l1, l2, name, cmp, target, weight, method, (actual, grade, ratio)) \
                        in enumerate(LINES, start=1):
                    if actual is not None and n % 7 == pos % 7:
                        actual = str(Decimal(actual) + n % 5)
                    lines.append({"evaluation_id": ev_id, "org_unit_id": evs[n]["org_unit_id"],
                                  "position": pos, "level1": l1, "level2": l2, "name": name,
                                  "comparator": cmp, "target_value": target, "unit": None,
                                  "weight": Decimal(weight), "method": method, "actual": actual,
                                  "grade": grade, "ratio": None if ratio is None
                                  else Decimal(ratio), "explanation": ""})
                if len(lines) >= 50_000:
                    conn.execute(insert(SelfEvaluationLine.__table__), lines)
                    lines = []
            if lines:
                conn.execute(insert(SelfEvaluationLine.__table__), lines)


def project(app) -> tuple[float, dict[int, tuple[Decimal, str]]]:
    """Seconds of ``score_year``, and the scores it wrote (read back untimed, then rolled back)."""
    from core.extensions import db
    from core.models import FiscalYear
    from plugins.evaluation.models import SelfEvaluation
    from plugins.evaluation.year import score_year

    with app.app_context():
        try:
            started = time.perf_counter()
            scored, failed = score_year(YEAR)
            seconds = time.perf_counter() - started
            assert not failed, failed[:3]
            return seconds, {r.id: (r.score, r.grade) for r in db.session.execute(
                select(SelfEvaluation.id, SelfEvaluation.score, SelfEvaluation.grade)
                .join(FiscalYear, FiscalYear.id == SelfEvaluation.fiscal_year_id)
                .where(FiscalYear.year == YEAR, SelfEvaluation.score.is_not(None)))}
        finally:
            db.session.rollback()


CENT = Decimal("0.01")
CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN)
BANDS = ((Decimal(90), "excellent"), (Decimal(80), "good"), (Decimal(60), "fair"),
         (Decimal(0), "poor"))
LEVEL_DEFAULT = {"achieved": Decimal(100), "partly": Decimal(70), "not_achieved": Decimal(0)}


def _points(comparator, method, target, actual, weight, grade, ratio) -> Decimal:
    if comparator == "qualitative":
        pct = LEVEL_DEFAULT[grade] if ratio is None else Decimal(ratio) * 100
        return weight * pct / 100
    t, a = Decimal(target), Decimal(actual)
    if comparator == "ge":
        return weight if a >= t else weight * a / t
    if comparator == "le":
        return weight if a <= t else weight * t / a
    return weight * max(Decimal(0), 1 - abs(a - t) / abs(t))


def baseline(app) -> tuple[float, dict[int, tuple[Decimal, str]]]:
    """Raw DB-API: read, compute the default formulas by hand, write score and grade;
    seconds of that work, and the scores (then rolled back)."""
    from core.extensions import db

    with app.app_context():
        raw = db.engine.raw_connection()
    try:
        started = time.perf_counter()
        cur = raw.cursor()
        mark = "%s" if "psycopg" in type(raw.driver_connection).__module__ else "?"
        cur.execute(f"SELECT e.id, e.budget, e.spent, e.execution_weight FROM self_evaluation e "
                    f"JOIN fiscal_year f ON f.id = e.fiscal_year_id WHERE f.year = {mark} "
                    f"AND e.finalized_at IS NULL AND e.spent IS NOT NULL ORDER BY e.id", (YEAR,))
        evs = cur.fetchall()
        cur.execute(f"SELECT l.evaluation_id, l.comparator, l.method, l.target_value, l.actual, "
                    f"l.weight, l.grade, l.ratio FROM self_evaluation_line l "
                    f"JOIN self_evaluation e ON e.id = l.evaluation_id "
                    f"JOIN fiscal_year f ON f.id = e.fiscal_year_id WHERE f.year = {mark} "
                    f"ORDER BY l.evaluation_id, l.position", (YEAR,))
        totals: dict[int, Decimal] = {}
        with decimal.localcontext(CONTEXT):
            for ev_id, cmp, method, target, actual, weight, grade, ratio in cur.fetchall():
                w = Decimal(str(weight))
                p = _points(cmp, method, target, actual, w, grade, ratio and Decimal(str(ratio)))
                totals[ev_id] = totals.get(ev_id, Decimal(0)) + p.quantize(CENT, ROUND_HALF_UP)
            out = {}
            for ev_id, budget, spent, ex_weight in evs:
                b, s, w = Decimal(str(budget)), Decimal(str(spent)), Decimal(str(ex_weight))
                total = totals.get(ev_id, Decimal(0)) + \
                    (w * min(s / b, Decimal(1))).quantize(CENT, ROUND_HALF_UP)
                out[ev_id] = (total, next(code for low, code in BANDS if total >= low))
        cur.executemany(f"UPDATE self_evaluation SET score = {mark}, grade = {mark} "
                        f"WHERE id = {mark}", [(str(t), g, i) for i, (t, g) in out.items()])
        return time.perf_counter() - started, out
    finally:
        raw.rollback()
        raw.close()


def run(scale: str, db_url: str | None) -> Result:
    n = SIZES[scale]
    with temp_database(db_url) as url, tempfile.TemporaryDirectory() as tmp:
        progress("building the demo database")
        app = demo_app(url, tmp)
        progress(f"{n:,} self-evaluations with {n * len(LINES):,} indicators")
        build(app, n)
        progress(f"timing, {REPEAT[scale]} turns each")
        project_times, baseline_times = [], []
        for _ in range(REPEAT[scale]):
            seconds, base = baseline(app)
            baseline_times.append(seconds)
            seconds, mine = project(app)
            project_times.append(seconds)
            assert len(mine) == len(base) == n, (len(mine), len(base))
            different = [k for k in base if mine[k] != base[k]]
            assert not different, [(k, mine[k], base[k]) for k in different[:5]]
    project_times.sort()
    baseline_times.sort()
    mid = len(project_times) // 2
    return Result(project_times[mid], baseline_times[mid], {
        "evaluations": f"{n:,}", "indicators": f"{n * len(LINES):,}",
        "check": Figures({"identical scores": f"{n:,} of {n:,}"})})
