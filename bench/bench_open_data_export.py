"""open_data_export: the public open-data downloads and a big department's public page.

Data: 10,000 published indicator rows (1,000 items) for 2025 and 100,000 rows
(10,000 items, 2,000 of them in department D01) for 2026, bulk-inserted as
approved publications on the small demo database.

Project: ``/disclosure/2026/targets.csv`` (and ``.json``, ``.xlsx``): the
district-wide export of 100,000 rows, and ``/disclosure/2026/D01/``, the public
page of a department with 2,000 items — anonymous requests through the Flask
test client, the body read chunk by chunk as a browser would.
Baseline: the same rows read with one plain SQL query and written with
``csv.writer`` into a discarding sink (the least a CSV export must do). Both are
timed in the same run, taking turns. Memory: the peak RSS growth of one request
in a fresh process, for 10,000 rows (2025) and for 100,000 rows (2026): the
difference must stay < 50 MB.
"""

from __future__ import annotations

import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select, text
from support import Figures, Result, demo_app, progress, temp_database

NAME = "open_data_export"
#: (items in 2025, items in 2026); 10 indicators each
SIZES = {"small": (100, 1_000), "full": (1_000, 10_000)}
PER_ITEM = 10
DEPT_SHARE = 5  # one item in five belongs to D01 (2,000 of 10,000)
REPEAT = {"small": 2, "full": 3}
HERE = Path(__file__).resolve().parent
URLS = {"csv": "/disclosure/{year}/targets.csv", "json": "/disclosure/{year}/targets.json",
        "xlsx": "/disclosure/{year}/targets.xlsx", "page": "/disclosure/{year}/D01/"}


def make_publications(app, year: int, n_items: int) -> None:
    from core.extensions import db
    from core.models import OrgKind, OrgUnit, State
    from plugins.disclosure.models import Publication, PublicationKind, PublishedIndicator

    now = datetime(2026, 11, 25)
    with app.app_context():
        depts = db.session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgKind.DEPARTMENT)
                                   .order_by(OrgUnit.code)).all()
        d01, others = depts[0], depts[1:]
        rows = []
        for n in range(n_items):
            dept = d01 if n % DEPT_SHARE == 0 else others[n % len(others)]
            rows.append({
                "kind": PublicationKind.ITEM_TARGETS, "fiscal_year": year,
                "department_id": dept.id, "org_unit_id": dept.id, "subject": f"bench:{year}:{n}",
                "state": State.APPROVED, "review_level": 1, "version": 1, "published_at": now,
                "item_code": f"{year}-BENCH-{n:06d}", "title": f"基准公开项目{n}",
                "amount": Decimal("1234567.89"), "goal": "完成年度建设任务，提升公共服务水平。",
                "created_at": now, "updated_at": now})
        with db.engine.begin() as conn:
            conn.execute(insert(Publication.__table__), rows)
            ids = conn.execute(select(Publication.id, Publication.org_unit_id).where(
                Publication.subject.like(f"bench:{year}:%"))).all()
            names = [("产出", "数量", "完成数量", "ge", "10", "个"),
                     ("产出", "质量", "验收合格率", "ge", "95", "%"),
                     ("效益", "社会效益", "服务水平", "qualitative", "明显提升", None),
                     ("满意度", "服务对象满意度", "满意度", "ge", "90", "%")]
            batch = []
            for pub_id, org in ids:
                for pos in range(1, PER_ITEM + 1):
                    l1, l2, name, comp, value, unit = names[pos % len(names)]
                    batch.append({"publication_id": pub_id, "org_unit_id": org,
                                  "position": pos, "level1": l1, "level2": l2,
                                  "name": f"{name}{pos}", "comparator": comp,
                                  "target_value": value, "unit": unit})
                if len(batch) >= 20_000:
                    conn.execute(insert(PublishedIndicator.__table__), batch)
                    batch = []
            if batch:
                conn.execute(insert(PublishedIndicator.__table__), batch)


BASELINE_SQL = """
SELECT p.fiscal_year, o.code, o.name, p.kind, p.item_code, p.title, p.amount, p.goal,
       i.level1, i.level2, i.name, i.comparator, i.target_value, i.unit
FROM publication p JOIN published_indicator i ON i.publication_id = p.id
JOIN org_unit o ON o.id = p.department_id
WHERE p.fiscal_year = :year AND p.state = 'APPROVED' AND p.published_at IS NOT NULL
ORDER BY o.code, p.kind, p.item_code, i.position
"""


class _Discard:
    def write(self, data):
        return len(data)


def baseline_export(app, year: int) -> int:
    from core.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        writer = csv.writer(_Discard())
        n = 0
        result = conn.execution_options(yield_per=1000).execute(text(BASELINE_SQL),
                                                                {"year": year})
        for row in result:
            writer.writerow(row)
            n += 1
        return n


def project_get(client, url: str) -> int:
    """GET ``url`` and read the body chunk by chunk; returns the bytes read."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    return size


def child(db_url: str, instance: str, url: str) -> None:
    """One request in a fresh process; prints the RSS growth in MB."""
    import os

    from core import create_app

    os.environ["JIXIAO_INSTANCE_PATH"] = instance
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench"})
    client = app.test_client()
    project_get(client, url.replace("2026", "2025").replace("D01", "D02"))  # warm up
    try:  # reset the peak (VmHWM) so that start-up does not count
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    before = _status_kb("VmRSS")
    project_get(client, url)
    after = _status_kb("VmHWM")
    print(json.dumps({"growth_mb": (after - before) / 1024}))


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _memory(db_url: str, instance: str, url: str) -> float:
    out = subprocess.run([sys.executable, __file__, "--child", db_url, instance, url],
                         capture_output=True, text=True, check=True, cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])["growth_mb"]


def run(scale: str, db_url: str | None) -> Result:
    small, large = SIZES[scale]
    with temp_database(db_url) as url, tempfile.TemporaryDirectory() as tmp:
        progress("building the demo database")
        app = demo_app(url, tmp)
        progress(f"publishing {small * PER_ITEM:,} + {large * PER_ITEM:,} indicator rows")
        make_publications(app, 2025, small)
        make_publications(app, 2026, large)
        client = app.test_client()
        rows = baseline_export(app, 2026)
        assert rows >= large * PER_ITEM, rows
        progress(f"timing the exports of {rows:,} rows, {REPEAT[scale]} turns")
        times: dict[str, list[float]] = {k: [] for k in ("baseline", *URLS)}
        for _ in range(REPEAT[scale]):
            started = time.perf_counter()
            baseline_export(app, 2026)
            times["baseline"].append(time.perf_counter() - started)
            for name, pattern in URLS.items():
                started = time.perf_counter()
                project_get(client, pattern.format(year=2026))
                times[name].append(time.perf_counter() - started)
        med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
        progress("memory in a fresh process per request and size")
        memory = Figures()
        for name, pattern in URLS.items():
            grown = {year: _memory(url, tmp, pattern.format(year=year)) for year in (2025, 2026)}
            memory[f"{name} {small * PER_ITEM // 1000}k"] = f"{grown[2025]:.1f} MB"
            memory[f"{name} {large * PER_ITEM // 1000}k"] = f"{grown[2026]:.1f} MB"
            memory[f"{name} difference"] = f"{grown[2026] - grown[2025]:.1f} MB"
    return Result(med["csv"], med["baseline"], {
        "rows": f"{rows:,}",
        "times": Figures({name: f"{med[name]:.3f} s" for name in URLS}),
        "memory": memory})


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    sys.path.insert(0, str(HERE.parent))
    child(*sys.argv[2:5])
