"""load: the whole app under gunicorn -w 4 on PostgreSQL, 50 concurrent users of three kinds.

The real app (``wsgi:app``, ``gunicorn -w 4``, sync workers) on a temporary
PostgreSQL database (migrated, ``seed-demo --scale small``) is driven over
loopback by locust (``bench/load_driver.py``, its own process) for a fixed time:

- staff (half the users): finance, dept01 and unit0101 log in through the form,
  then open the dashboard, the budget-item and target-sheet admin lists and a
  budget item's detail page (one in every one's scope);
- API readers (a quarter): GET /api/v1/budget-items, target-sheets, engagements with
  the personal API token of finance or dept01;
- agency writers (a quarter): POST /api/v1/work-logs as agency01 with its token, the
  bodies and setup of ``bench_worklog_post`` (every post must answer 201).

Each user waits 0.5–1.5 s between requests (think time). The figures count from
``SETTLE`` seconds after the last staff login (logins are not in them). There is no baseline
app for this: the same mix is run first with ``LIGHT_USERS`` users (one of each
kind) as the reference, then with ``USERS``; the ratio is p95 under load over
p95 light. Reported: p50/p95/p99 per request kind and overall, requests per
second, the workers' CPU time per request in the measured time (close to
independent of how busy the machine is), failures, and
the count check (work logs answered 201 = rows written).
Any failed request or lost write makes the run fail (non-zero exit) after the
figures are printed to stderr. Needs PostgreSQL: without ``--db`` uses DEFAULT_DB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench_worklog_post import Server, count_rows, payloads, prepare
from support import ROOT, Figures, Result, demo_app, logged_in_client, progress, temp_database

NAME = "load"
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
USERS = 50
LIGHT_USERS = 3
DURATION = {"small": 10, "full": 60}  # seconds under load (the light run: a third of it)
SETTLE = 3  # seconds after the last staff login before the figures start
STAFF = ("finance", "dept01", "unit0101")
API_USERS = ("finance", "dept01")
NOTE = "bench-load"
DRIVER = Path(__file__).resolve().with_name("load_driver.py")


class LoadResult(Result):
    """p95 under load vs p95 light, then the per-kind lines (no baseline app exists)."""

    def line(self, name: str) -> str:
        parts = [f"p95 at {USERS} users {self.project_s * 1000:.0f} ms",
                 f"p95 at {LIGHT_USERS} users {self.baseline_s * 1000:.0f} ms",
                 f"ratio {self.ratio:.2f}"]
        parts += [f"{key} {value}" for key, value in self.extra.items()
                  if not hasattr(value, "lines")]
        return f"{name}: " + ", ".join(parts)


def staff_plan(app) -> tuple[list[dict], list[str]]:
    """Staff accounts with a detail page each may open, and API tokens of API_USERS."""
    from sqlalchemy import select

    from core.extensions import db
    from core.models import BudgetItem, OrgUnit, User
    from core.services.api_tokens import create_token

    with app.app_context():
        unit = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "D01U01"))
        item = db.session.scalars(select(BudgetItem.id).where(BudgetItem.org_unit_id == unit)
                                  .order_by(BudgetItem.id)).first()
        tokens = [create_token(db.session.scalar(select(User).where(User.username == u)),
                               "bench load")[0] for u in API_USERS]
        db.session.commit()
        db.engine.dispose()
    detail = f"/admin/budgetitem/details/?id={item}"
    for username in STAFF:  # every page of the mix answers 200 for every account
        client = logged_in_client(app, username)
        for path in ("/admin/", "/admin/budgetitem/", "/admin/targetsheet/", detail):
            status = client.get(path).status_code
            if status != 200:
                raise RuntimeError(f"{username}: {path} answers {status}")
    return [{"username": u, "detail": detail} for u in STAFF], tokens


def drive(server: Server, users: int, seconds: int, plan: dict, workdir: str
          ) -> tuple[dict, float]:
    """One locust run in its own process: its result, and the workers' CPU seconds in the
    measured time."""
    plan = {**plan, "host": f"http://127.0.0.1:{server.port}", "users": users,
            "spawn_rate": 10, "duration_s": seconds, "settle_s": SETTLE}
    plan_path, out_path = Path(workdir, f"plan{users}.json"), Path(workdir, f"out{users}.json")
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, str(DRIVER), str(plan_path), str(out_path)],
                                cwd=str(ROOT), stdout=subprocess.PIPE, stderr=err, text=True)
        cpu = {}
        for line in proc.stdout:
            if line.startswith("measure "):
                cpu[line.split()[1]] = server_cpu_s(server)
        code = proc.wait(timeout=seconds + 300)
        err.seek(0)
        if code != 0 or not out_path.exists() or len(cpu) != 2:
            raise RuntimeError(f"load driver failed (exit {code}): "
                               f"{err.read().decode(errors='replace')[-3000:]}")
    return json.loads(out_path.read_text(encoding="utf-8")), cpu["end"] - cpu["start"]


def server_cpu_s(server: Server) -> float:
    """CPU seconds used so far by the gunicorn master's workers (Linux /proc)."""
    pid = server.proc.pid
    total = 0
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def kind_figures(run: dict) -> dict[str, Figures]:
    out = {}
    for name, f in [*run["kinds"].items(), ("overall", run["total"])]:
        if not f["requests"]:
            continue
        key = f"{NAME}_" + name.replace(": ", "_").replace(" ", "_").replace("-", "_").lower()
        out[key] = Figures({"n": f["requests"], "p50": f"{f['p50']} ms",
                            "p95": f"{f['p95']} ms", "p99": f"{f['p99']} ms",
                            "failures": f["failures"]})
    return out


def run(scale: str, db_url: str | None = None) -> Result:
    db_url = db_url or DEFAULT_DB
    if not db_url.startswith("postgresql"):
        raise SystemExit("load needs PostgreSQL: --db postgresql+psycopg://…")
    seconds = DURATION[scale]
    light_seconds = max(5, seconds // 3)
    with ExitStack() as stack:
        url = stack.enter_context(temp_database(db_url))
        instance = stack.enter_context(tempfile.TemporaryDirectory())
        workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="jixiao-load-"))
        progress("migrating and seeding the small demo")
        app = demo_app(url, instance)
        info = prepare(app)
        staff, api_tokens = staff_plan(app)
        # at most ~4 posts a second per writer, far more than the think time allows
        writers = USERS // 4 + 1
        bodies = [{**b, "notes": NOTE} for b in payloads(info, writers * 4 * (
            seconds + light_seconds + 2 * SETTLE + 60))]
        from plugins.system.demo import DEMO_PASSWORD

        plan = {"password": DEMO_PASSWORD, "staff": staff, "api_tokens": api_tokens,
                "agency_token": info["token"], "think_min_s": 0.5, "think_max_s": 1.5}
        server = Server("project", "wsgi:app", str(ROOT), {
            "JIXIAO_DATABASE_URL": url, "JIXIAO_SECRET_KEY": "bench-" + os.urandom(8).hex(),
            "JIXIAO_INSTANCE_PATH": instance, "JIXIAO_ENV": "default"})
        try:
            server.wait_ready("/login")
            progress(f"light: {LIGHT_USERS} users for {light_seconds} s")
            half = len(bodies) * light_seconds // (seconds + light_seconds)
            light, _cpu = drive(server, LIGHT_USERS, light_seconds,
                                {**plan, "work_logs": bodies[:half]}, workdir)
            progress(f"load: {USERS} users for {seconds} s")
            heavy, cpu = drive(server, USERS, seconds,
                               {**plan, "work_logs": bodies[half:]}, workdir)
        finally:
            server.stop()
        rows = count_rows(app, NOTE)

    created = light["work_logs_created"] + heavy["work_logs_created"]
    total = heavy["total"]
    extra: dict = {
        "requests": f"{total['requests']} in {heavy['seconds']:.0f} s "
                    f"({total['requests'] / max(heavy['seconds'], 1e-9):.0f} req/s)",
        "failures": total["failures"] + light["total"]["failures"],
        "server cpu": f"{cpu * 1000 / max(total['requests'], 1):.0f} ms a request",
        "think": "0.5–1.5 s",
        "load average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        **kind_figures(heavy),
        f"{NAME}_light_overall": kind_figures(light)[f"{NAME}_overall"],
        f"{NAME}_lost": Figures({"lost": created - rows, "work logs answered 201": created,
                                 "rows": rows}),
    }
    result = LoadResult(total["p95"] / 1000, light["total"]["p95"] / 1000, extra)
    problems = []
    if extra["failures"]:
        problems.append(f"{extra['failures']} failed requests: "
                        f"{(heavy['failures'] + light['failures'])[:5]}")
    if created != rows:
        problems.append(f"{created - rows} lost writes ({created} answered 201, {rows} rows)")
    if light["work_logs_unanswered"] or heavy["work_logs_unanswered"]:
        problems.append("work-log posts still unanswered 120 s after the end")
    if not light["work_logs_left"] or not heavy["work_logs_left"]:
        problems.append("the writers ran out of work-log bodies (raise the plan's count)")
    if problems:
        print("\n".join(result.lines(NAME)), file=sys.stderr, flush=True)
        raise RuntimeError("load: " + "; ".join(problems))
    return result
