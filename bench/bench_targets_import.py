"""targets_import: importing a target-sheet workbook of 50,000 indicator rows.

Project: ``plugins.targets.excel_io.import_sheets`` as the finance bureau, in a
request context — the whole import: streaming read and cell checks
(``core.services.excel.read_rows``), the indicator rules, unknown codes, duplicates and
weights per item, then the bulk write of 5,000 sheets and 50,000 indicators.
Baseline: one openpyxl ``read_only`` pass over the same file reading every
value (the least any importer must do). Both are timed in the same run,
taking turns. Memory: the peak RSS growth of one import in a fresh process, at
5,000 and at 50,000 rows (the difference must stay < 100 MB).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select
from support import Figures, Result, demo_app, progress, temp_database

NAME = "targets_import"
SIZES = {"small": (500, 5_000), "full": (5_000, 50_000)}
PER_ITEM = 10
REPEAT = {"small": 3, "full": 3}
HERE = Path(__file__).resolve().parent


def make_items(app, n_items: int) -> list[str]:
    from core.extensions import db
    from core.models import BudgetItem, FiscalYear, ItemKind, OrgUnit

    with app.app_context():
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
        codes = [f"2026-BENCH-{n:06d}" for n in range(n_items)]
        rows = [{"code": c, "name": f"基准项目{n}", "fiscal_year_id": year.id,
                 "org_unit_id": unit.id, "kind": ItemKind.PROJECT,
                 "budget_type": "GENERAL_PUBLIC", "amount": Decimal("100000.00"), "version": 1,
                 "is_new": False, "is_recurring": False, "is_key_task": False,
                 "is_purchase_of_services": False} for n, c in enumerate(codes)]
        with db.engine.begin() as conn:
            conn.execute(insert(BudgetItem.__table__), rows)
    return codes


def make_workbook(path: Path, codes: list[str], rows: int) -> None:
    from openpyxl import Workbook

    from plugins.targets.excel_io import HEADERS

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("绩效目标")
    ws.append(list(HEADERS.values()))
    per = [("产出", "数量", "≥", 10, "个", 20), ("产出", "质量", "≥", 95, "%", 10),
           ("产出", "时效", "≤", 12, "月", 10), ("产出", "成本", "≤", 100, "万元", 10),
           ("效益", "社会效益", "定性", "明显提升", None, 10), ("效益", "经济效益", "≥", 5, "万元", 10),
           ("效益", "生态效益", "定性", "改善", None, 5), ("效益", "可持续影响", "定性", "长效", None, 5),
           ("满意度", "服务对象满意度", "≥", 90, "%", 10), ("产出", "数量", "≥", 3, "场", 10)]
    n = 0
    for code in codes:
        for k, (l1, l2, cmp, value, unit, weight) in enumerate(per):
            if n >= rows:
                break
            ws.append([code, "基准项目", "完成年度任务" if k == 0 else None, l1, l2, f"指标{k}",
                       cmp, value, unit, weight, None, "统计台账", None])
            n += 1
    wb.save(path)


def baseline_pass(path: Path) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    count = 0
    for row in wb["绩效目标"].iter_rows(values_only=True):
        count += sum(1 for v in row if v is not None)
    wb.close()
    return count


def project_import(app, path: Path) -> int:
    from flask_login import login_user

    from core.extensions import db
    from core.models import User
    from plugins.targets.excel_io import import_sheets

    with app.test_request_context():
        login_user(db.session.scalar(select(User).where(User.username == "finance")))
        return import_sheets(str(path), 2026)


def child(db_url: str, instance: str, path: str) -> None:
    """One import in a fresh process; prints the RSS growth in MB."""
    import os

    from core import create_app

    os.environ["JIXIAO_INSTANCE_PATH"] = instance
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench"})
    with app.app_context():
        from core.extensions import db

        db.session.execute(select(1))
    try:  # reset the peak (VmHWM) so that start-up does not count
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    before = _status_kb("VmRSS")
    project_import(app, Path(path))
    after = _status_kb("VmHWM")
    print(json.dumps({"growth_mb": (after - before) / 1024}))


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _memory(db_url: str, instance: str, path: Path) -> float:
    out = subprocess.run([sys.executable, __file__, "--child", db_url, instance, str(path)],
                         capture_output=True, text=True, check=True, cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])["growth_mb"]


def run(scale: str, db_url: str | None) -> Result:
    small, large = SIZES[scale]
    with temp_database(db_url) as url, tempfile.TemporaryDirectory() as tmp:
        progress("building the demo database")
        app = demo_app(url, tmp)
        codes = make_items(app, large // PER_ITEM)
        files = {}
        for size in (small, large):
            files[size] = Path(tmp) / f"targets-{size}.xlsx"
            make_workbook(files[size], codes, size)
        progress(f"timing {large} rows, {REPEAT[scale]} turns")
        project_times, baseline_times = [], []
        for _ in range(REPEAT[scale]):
            started = time.perf_counter()
            baseline_pass(files[large])
            baseline_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            written = project_import(app, files[large])
            project_times.append(time.perf_counter() - started)
            assert written == large, written
        progress("memory in a fresh process per size")
        growth = {size: _memory(url, tmp, files[size]) for size in (small, large)}
    project_times.sort()
    baseline_times.sort()
    mid = len(project_times) // 2
    return Result(project_times[mid], baseline_times[mid], {
        "rows": f"{large:,}",
        "memory": Figures({f"rss growth {small:,} rows": f"{growth[small]:.1f} MB",
                           f"rss growth {large:,} rows": f"{growth[large]:.1f} MB",
                           "difference": f"{growth[large] - growth[small]:.1f} MB"})})


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    sys.path.insert(0, str(HERE.parent))
    child(*sys.argv[2:5])
