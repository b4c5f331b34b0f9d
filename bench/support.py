"""What every benchmark shares: results, timing, a throw-away database, a demo app.

A benchmark module ``bench/bench_<name>.py`` exposes ``NAME`` and
``run(scale, db_url) -> Result``. ``scale`` is ``"small"`` (a quick check) or
``"full"`` (the figures to report); ``db_url`` is None for a temporary SQLite
file, or a PostgreSQL URL from which a fresh temporary database is made.
"""

from __future__ import annotations

import os
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.services.temporary_db import temporary_database  # noqa: E402 - needs ROOT on sys.path
from tests.crawl import sql_profile  # noqa: E402,F401 - the benchmarks' SQL recorder, shared


def fmt_s(seconds: float) -> str:
    return f"{seconds:.4f} s"


@dataclass
class Result:
    """Project vs baseline, measured in the same run on the same data.

    ``extra``: figures appended to the line (``memory_mb`` and the like), and
    further named results (``Result``, ``Growth``, ``Figures``: anything with a
    ``lines(name)`` method) printed on lines of their own.
    """

    project_s: float
    baseline_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.project_s / self.baseline_s if self.baseline_s else float("inf")

    def line(self, name: str) -> str:
        parts = [f"project {fmt_s(self.project_s)}", f"baseline {fmt_s(self.baseline_s)}",
                 f"ratio {self.ratio:.2f}"]
        parts += [f"{key} {value}" for key, value in self.extra.items()
                  if not hasattr(value, "lines")]
        return f"{name}: " + ", ".join(parts)

    def lines(self, name: str) -> list[str]:
        out = [self.line(name)]
        for key, value in self.extra.items():
            if hasattr(value, "lines"):
                out += value.lines(key)
        return out


class Figures(dict):
    """Named figures printed on a line of their own: ``NAME: key value, key value``."""

    def lines(self, name: str) -> list[str]:
        return [f"{name}: " + ", ".join(f"{k} {v}" for k, v in self.items())]


@dataclass
class Growth:
    """One page's time on a small and on a large table: flat means a ratio near 1."""

    small_label: str
    small_s: float
    large_label: str
    large_s: float

    def lines(self, name: str) -> list[str]:
        ratio = self.large_s / self.small_s if self.small_s else float("inf")
        return [f"{name}: {self.small_label} {fmt_s(self.small_s)}, "
                f"{self.large_label} {fmt_s(self.large_s)}, ratio {ratio:.2f}"]


def progress(message: str) -> None:
    """Progress goes to stderr; stdout holds only the result lines."""
    print(f"  .. {message}", file=sys.stderr, flush=True)


def interleaved_medians(calls: dict[Any, Callable[[], Any]], repeat: int,
                        warmup: int = 3) -> dict[Any, float]:
    """Median seconds of each call, taking turns so that a change in the machine's load
    hits every call alike (the ratios stay fair on a busy machine)."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    times: dict[Any, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def python_calls(call: Callable[[], Any]) -> int:
    """Python function calls made by ``call()``: a measure of work that load does not blur."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    try:
        call()
    finally:
        profile.disable()
    return pstats.Stats(profile).total_calls


def sql_figures(statements: list[tuple[float, str]]) -> Figures:
    """What the database did for one request: statements, their time, the pager's count."""
    count = sum(s for s, sql in statements if sql.upper().startswith("SELECT COUNT("))
    return Figures({"queries": str(len(statements)),
            "sql": fmt_s(sum(s for s, _sql in statements)),
            "of which count(*)": fmt_s(count)})


def temp_database(db_url: str | None):
    """A database used only by this run: a SQLite file, or a new PostgreSQL database."""
    return temporary_database(db_url, prefix="jixiao_bench")


def demo_app(database_url: str, instance_path: str, scale: str = "small"):
    """The real app on ``database_url``: schema from the migrations, demo data of ``scale``
    (``small``, or ``district``: 40 departments, 3,000 budget items over two years)."""
    from flask_migrate import upgrade

    from core import create_app

    os.environ["JIXIAO_INSTANCE_PATH"] = instance_path
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                      "SECRET_KEY": "bench-secret-" + secrets.token_hex(8)})
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["jixiao", "seed-demo", "--scale", scale])
    if result.exit_code != 0:
        raise RuntimeError(f"seed-demo failed: {result.output}")
    return app


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def logged_in_client(app, username: str):
    """A test client of ``app`` logged in as the demo user ``username``."""
    from plugins.system.demo import DEMO_PASSWORD

    client = app.test_client()
    page = client.get("/login")
    token = _TOKEN.search(page.text)
    response = client.post("/login", data={
        "username": username, "password": DEMO_PASSWORD,
        "csrf_token": (token.group(1) or token.group(2)) if token else ""})
    if response.status_code != 302:
        raise RuntimeError(f"login of {username} failed ({response.status_code})")
    return client
