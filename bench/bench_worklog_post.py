"""worklog_post: work-log POST through the full app under gunicorn, 20 concurrent clients.

Project: the real app (``wsgi:app``) under ``gunicorn -w 4`` on a temporary
PostgreSQL database (migrated, ``seed-demo --scale small``); ``CLIENTS`` threads
each POST ``PER_CLIENT[scale]`` work logs to ``/api/v1/work-logs`` with the
personal API token (``core.tokens``) of the demo agency user ``agency01``, on
its open, approved engagement: 0.5 h each, staff and dates spread over the team
and the engagement's dates so that no post is legitimately refused (every post
must answer 201). Baseline: a minimal Flask app (one POST endpoint, the same
INSERT into ``work_log`` with psycopg, one connection per worker process) under
``gunicorn -w 4`` on the same database, the same clients and the same number of
requests. The two take turns for ``ROUNDS`` rounds after a warm-up.

Reported: total wall time of the timed posts of each side (same number of
requests), ratio = project / baseline — the target "throughput ≥ 0.5 × the
baseline" means ratio ≤ 2.0 — throughput, p50/p99 latency of one post, and the
count check: rows written must equal the posts answered 201 (``worklog_post_lost``).
This benchmark needs PostgreSQL: without ``--db`` it uses ``DEFAULT_DB``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from support import (
    ROOT,
    Figures,
    Result,
    demo_app,
    progress,
    python_calls,
    sql_profile,
    temp_database,
)
from worklog_cpu import cpu_per_post, load_app, posts_needed
from worklog_floor import FLOOR_APP, STATEMENTS

NAME = "worklog_post"
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLIENTS = 20
PER_CLIENT = {"small": 10, "full": 50}
ROUNDS = {"small": 1, "full": 2}
WARMUP = 2  # posts per client before timing (fills every worker's connection pool)
WORKERS = 4
HOURS = "0.5"
GUNICORN = Path(sys.executable).with_name("gunicorn")
PROJECT_NOTE = "bench-project"
IN_PROCESS_NOTE = "bench-in-process"
IN_PROCESS_POSTS = 6  # the first ones warm up; the last two are counted
BASELINE_NOTE = "bench-baseline"
FLOOR_NOTE = "bench-floor"

BASELINE_APP = textwrap.dedent('''
    """The baseline: one POST endpoint doing the work log's INSERT with psycopg."""
    import os
    from datetime import date, datetime, timezone
    from decimal import Decimal

    import psycopg
    from flask import Flask, jsonify, request

    app = Flask(__name__)
    DSN = os.environ["BASELINE_DSN"]
    _conn = None


    def conn():
        global _conn
        if _conn is None or _conn.closed:
            _conn = psycopg.connect(DSN)
        return _conn


    @app.post("/work-logs")
    def create():
        data = request.get_json()
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        c = conn()
        with c.cursor() as cur:
            cur.execute(
                "INSERT INTO work_log (engagement_id, agency_id, org_unit_id, staff_id, "
                "work_date, hours, activity, location, notes, submitted_at, created_by_id, "
                "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s, %s) RETURNING id",
                (data["engagement_id"], data["agency_id"], data["org_unit_id"],
                 data["staff_id"], date.fromisoformat(data["work_date"]),
                 Decimal(data["hours"]), data["activity"], data.get("location", ""),
                 data.get("notes", ""), None, data["created_by_id"], now, now))
            new_id = cur.fetchone()[0]
        c.commit()
        return jsonify(id=new_id), 201
''')


# ---------------------------------------------------------------------------- setup

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(app) -> dict:
    """The engagement, team, dates, agency user and a fresh API token for the posts."""
    from sqlalchemy import select

    from core.extensions import db
    from core.models import State, User
    from core.services.api_tokens import create_token
    from plugins.agencies.models import Activity, AgencyMember, Engagement, WorkLog

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "agency01"))
        member = db.session.scalar(select(AgencyMember).where(AgencyMember.user_id == user.id))
        eng = db.session.scalars(select(Engagement).where(
            Engagement.agency_id == member.agency_id, Engagement.state == State.APPROVED,
            Engagement.closed_at.is_(None)).order_by(Engagement.id)).first()
        if eng is None or not eng.team:
            raise RuntimeError("the demo has no open engagement with a team for agency01")
        token, _row = create_token(user, "bench worklog_post")
        days = (eng.end_on - eng.start_on).days + 1
        # the string the ORM stores for the activity (Enum keeps names unless told otherwise)
        stored = WorkLog.__table__.c.activity.type.enums
        activity = Activity.DESK_REVIEW
        stored_activity = activity.name if activity.name in stored else activity.value
        info = {"token": token, "engagement_id": eng.id, "agency_id": eng.agency_id,
                "org_unit_id": eng.org_unit_id, "user_id": user.id,
                "staff": [s.id for s in eng.team], "start": eng.start_on, "days": days,
                "activity": activity.value, "stored_activity": stored_activity}
        db.session.commit()
        db.engine.dispose()
    return info


def payloads(info: dict, count: int) -> list[dict]:
    """``count`` posts of 0.5 h, spread over (staff, day): at most a few per person-day,
    far below the 24 h a day a person may log, so no post is legitimately refused."""
    staff, days = info["staff"], info["days"]
    if count * float(HOURS) > len(staff) * days * 20:
        raise RuntimeError("too many posts for the engagement's team and dates")
    out = []
    for n in range(count):
        day = info["start"] + timedelta(days=(n // len(staff)) % days)
        out.append({"engagement_id": info["engagement_id"], "staff_id": staff[n % len(staff)],
                    "work_date": day.isoformat(), "hours": HOURS,
                    "activity": info["activity"], "location": "bench"})
    return out


class Server:
    """A gunicorn with ``WORKERS`` workers on a free loopback port; stopped by ``stop``."""

    def __init__(self, label: str, module: str, cwd: str, env: dict[str, str]):
        self.label, self.port = label, free_port()
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [str(GUNICORN), "-w", str(WORKERS), "-b", f"127.0.0.1:{self.port}",
             "--timeout", "120", module],
            cwd=cwd, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} gunicorn exited: {self.output()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.label} gunicorn did not answer: {self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------------------- load

def post(port: int, path: str, body: dict, headers: dict) -> tuple[int, float, bytes]:
    """One POST on a fresh loopback connection (gunicorn's sync workers close each one)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, json.dumps(body),
                     {"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        data = response.read()
        return response.status, time.perf_counter() - started, data
    finally:
        conn.close()


def blast(port: int, path: str, bodies: list[dict], headers: dict
          ) -> tuple[float, list[float], list[tuple[int, bytes]]]:
    """POST ``bodies`` with ``CLIENTS`` threads (each its own share, in order):
    wall seconds, the latency of each 201, and every other answer."""
    shares = [bodies[i::CLIENTS] for i in range(CLIENTS)]
    latencies: list[float] = []
    failures: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    gate = threading.Barrier(CLIENTS + 1)

    def client(share: list[dict]) -> None:
        gate.wait()
        for body in share:
            try:
                status, seconds, data = post(port, path, body, headers)
            except OSError as exc:
                status, seconds, data = 0, 0.0, repr(exc).encode()
            with lock:
                if status == 201:
                    latencies.append(seconds)
                else:
                    failures.append((status, data[:300]))

    threads = [threading.Thread(target=client, args=(s,)) for s in shares]
    for t in threads:
        t.start()
    gate.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, failures


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def count_rows(app, note: str) -> int:
    from sqlalchemy import func, select

    from core.extensions import db
    from plugins.agencies.models import WorkLog

    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(WorkLog).where(
            WorkLog.notes == note).execution_options(jixiao_unscoped=True))
        db.session.rollback()
        db.engine.dispose()
    return n


def in_process(app, info: dict, bodies: list[dict]) -> tuple[int, int]:
    """Python calls and SQL statements of one post through the test client: figures
    that the machine's load does not move (the timed runs above it does)."""
    client = app.test_client()
    auth = {"Authorization": f"Bearer {info['token']}"}
    queue = iter(bodies)

    def post() -> None:
        response = client.post("/api/v1/work-logs", headers=auth,
                               json={**next(queue), "notes": IN_PROCESS_NOTE})
        if response.status_code != 201:
            raise RuntimeError(f"in-process post refused: {response.text[:300]}")

    for _ in range(IN_PROCESS_POSTS - 2):
        post()
    calls = python_calls(post)
    statements = len(sql_profile(app, post))
    return calls, statements


# ---------------------------------------------------------------------------- run

def run(scale: str, db_url: str | None = None) -> Result:
    db_url = db_url or DEFAULT_DB
    if not db_url.startswith("postgresql"):
        raise SystemExit("worklog_post needs PostgreSQL: --db postgresql+psycopg://…")
    per_round = CLIENTS * PER_CLIENT[scale]
    with ExitStack() as stack:
        url = stack.enter_context(temp_database(db_url))
        instance = stack.enter_context(tempfile.TemporaryDirectory())
        progress("migrating and seeding the small demo")
        app = demo_app(url, instance)
        info = prepare(app)
        base_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="jixiao-baseline-"))
        Path(base_dir, "baseline_app.py").write_text(BASELINE_APP, encoding="utf-8")
        Path(base_dir, "floor_app.py").write_text(FLOOR_APP, encoding="utf-8")
        from sqlalchemy.engine import make_url
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

        servers: list[Server] = []
        try:
            project = Server("project", "wsgi:app", str(ROOT), {
                "JIXIAO_DATABASE_URL": url, "JIXIAO_SECRET_KEY": "bench-" + os.urandom(8).hex(),
                "JIXIAO_INSTANCE_PATH": instance})
            servers.append(project)
            baseline = Server("baseline", "baseline_app:app", base_dir, {"BASELINE_DSN": dsn})
            servers.append(baseline)
            floor = Server("floor", "floor_app:app", base_dir, {"BASELINE_DSN": dsn})
            servers.append(floor)
            project.wait_ready("/login")
            baseline.wait_ready("/")
            floor.wait_ready("/")
            progress(f"gunicorn -w {WORKERS}: project on :{project.port}, "
                     f"baseline on :{baseline.port}, floor on :{floor.port}")

            auth = {"Authorization": f"Bearer {info['token']}"}
            total = 3 * (WARMUP * CLIENTS + per_round * ROUNDS[scale])
            bodies = payloads(info, total + IN_PROCESS_POSTS + posts_needed())
            extra_base = {"agency_id": info["agency_id"], "org_unit_id": info["org_unit_id"],
                          "created_by_id": info["user_id"],
                          "activity": info["stored_activity"]}

            def run_side(side: str, chunk: list[dict]):
                if side == "project":
                    return blast(project.port, "/api/v1/work-logs",
                                 [{**b, "notes": PROJECT_NOTE} for b in chunk], auth)
                if side == "floor":
                    return blast(floor.port, "/work-logs",
                                 [{**b, "notes": FLOOR_NOTE} for b in chunk], auth)
                return blast(baseline.port, "/work-logs",
                             [{**b, **extra_base, "notes": BASELINE_NOTE} for b in chunk], {})

            sides = ("baseline", "project", "floor")
            wall = dict.fromkeys(sides, 0.0)
            lat: dict[str, list[float]] = {side: [] for side in sides}
            ok = dict.fromkeys(sides, 0)
            failures: dict[str, list] = {side: [] for side in sides}
            progress(f"warm-up: {WARMUP} posts per client on each side")
            for n, side in enumerate(sides):  # each side its own (staff, day)s: none refused
                chunk = bodies[n * WARMUP * CLIENTS:(n + 1) * WARMUP * CLIENTS]
                _w, got, bad = run_side(side, chunk)
                ok[side] += len(got)
                failures[side] += bad
            cursor = len(sides) * WARMUP * CLIENTS
            for r in range(ROUNDS[scale]):
                for side in (sides if r % 2 == 0 else sides[::-1]):
                    chunk = bodies[cursor:cursor + per_round]
                    cursor += per_round
                    progress(f"round {r + 1}: {side}, {CLIENTS} clients × {PER_CLIENT[scale]} posts")
                    seconds, got, bad = run_side(side, chunk)
                    wall[side] += seconds
                    lat[side] += got
                    ok[side] += len(got)
                    failures[side] += bad
        finally:
            for server in servers:
                server.stop()

        rows = {"project": count_rows(app, PROJECT_NOTE),
                "baseline": count_rows(app, BASELINE_NOTE),
                "floor": count_rows(app, FLOOR_NOTE)}
        progress("one post in-process: Python calls and SQL statements")
        calls, statements = in_process(app, info, bodies[total:])
        progress("app CPU per post in-process, each side")
        os.environ["BASELINE_DSN"] = dsn
        apps = [load_app(text, name) for text, name in ((BASELINE_APP, "baseline_app"),
                                                         (FLOOR_APP, "floor_app"))]
        try:
            cpu = cpu_per_post(app, apps[0][0], apps[1][0], info["token"], extra_base,
                               bodies[total + IN_PROCESS_POSTS:])
        finally:
            for _app, close in apps:
                close()
            with app.app_context():
                from core.extensions import db

                db.session.remove()
                db.engine.dispose()

    for side in ("project", "baseline", "floor"):
        if failures[side]:
            raise RuntimeError(f"{side}: {len(failures[side])} posts refused, e.g. "
                               f"{failures[side][:3]}")
    posts = per_round * ROUNDS[scale] + WARMUP * CLIENTS
    lost = {side: ok[side] - rows[side] for side in ok}
    if ok["project"] != posts or any(lost.values()):
        raise RuntimeError(f"count check failed: posts {posts}, answered 201 {ok}, rows {rows}")
    timed = per_round * ROUNDS[scale]
    rps = {side: timed / wall[side] for side in wall}

    def latency(side: str) -> Figures:
        return Figures({"p50": f"{statistics.median(lat[side]) * 1000:.1f} ms",
                        "p99": f"{percentile(lat[side], 99) * 1000:.1f} ms",
                        "max": f"{max(lat[side]) * 1000:.1f} ms"})

    return Result(wall["project"], wall["baseline"], {
        "requests": f"{timed} each ({CLIENTS} clients)",
        "throughput": f"project {rps['project']:.0f} req/s, baseline {rps['baseline']:.0f} req/s",
        "target": f"ratio ≤ 2.00 (throughput ≥ 0.5 × baseline): "
                  f"{'met' if wall['project'] <= 2 * wall['baseline'] else 'NOT met'}",
        f"{NAME}_latency": latency("project"),
        f"{NAME}_latency_baseline": latency("baseline"),
        f"{NAME}_floor": Figures({
            "ratio": f"{wall['floor'] / wall['baseline']:.2f}",
            "project / floor": f"{wall['project'] / wall['floor']:.2f}",
            "throughput": f"{rps['floor']:.0f} req/s",
            "what": f"the project's {STATEMENTS} statements, raw psycopg, bare Flask"}),
        f"{NAME}_lost": _Lost(lost["project"], posts, rows["project"], lost["baseline"]),
        f"{NAME}_cpu": Figures({
            **{side: f"{cpu[side]:.2f} ms" for side in ("project", "floor", "baseline")},
            "refused request (401)": f"{cpu['refused']:.2f} ms",
            "measured": "in-process, the app's CPU per post, least of 12 chunks"}),
        f"{NAME}_calls": Figures({"python calls per post": f"{calls}",
                                  "SQL statements": f"{statements}"
                                  + ("" if statements == STATEMENTS else
                                     f" (the floor sends {STATEMENTS}: update worklog_floor.py)"),
                                  "measured": "in-process, test client"}),
    })


class _Lost:
    """``worklog_post_lost: 0`` — posts answered 201 minus rows found, per side."""

    def __init__(self, lost: int, posts: int, rows: int, lost_baseline: int):
        self.lost, self.posts, self.rows, self.lost_baseline = lost, posts, rows, lost_baseline

    def lines(self, name: str) -> list[str]:
        return [f"{name}: {self.lost} (project: {self.posts} posts answered 201, "
                f"{self.rows} rows; baseline lost {self.lost_baseline})"]
