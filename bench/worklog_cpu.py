"""``worklog_post_cpu``: the app's own CPU per post, in-process, for the three sides.

Each app is called as a WSGI callable (no server, no test client) in this
process, posting in turns: 12 chunks of ``CHUNK`` posts each, ``time.process_time``
per chunk, the minimum kept (the least disturbed chunk; this machine's speed
drifts). Also a refused request (a 401: no token, a fresh client address each
time so the rate limit never answers instead): the framework's cost per request
without a single statement. These say where the CPU goes when the timed ratio is
too noisy to compare code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from werkzeug.test import EnvironBuilder

CHUNKS = 12
CHUNK = 25


def _environ(path: str, body: dict, headers: dict[str, str], address: str) -> dict:
    return EnvironBuilder(path=path, method="POST", json=body, headers=headers,
                          environ_base={"REMOTE_ADDR": address}).get_environ()


def _call(app: Any, environ: dict, expect: str) -> None:
    status: list[str] = []
    out = app(environ, lambda s, h, exc=None: status.append(s))
    body = b"".join(out)
    if hasattr(out, "close"):
        out.close()
    if not status[0].startswith(expect):
        raise RuntimeError(f"in-process post answered {status[0]}: {body[:300]!r}")


def load_app(source: str, name: str) -> tuple[Any, Callable[[], None]]:
    """The Flask app defined by ``source`` (the baseline's or the floor's text, reading
    ``BASELINE_DSN``), and what closes its connection."""
    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(source, name, "exec"), namespace)  # noqa: S102 - the bench's own app text

    def close() -> None:
        if namespace.get("_conn") is not None:
            namespace["_conn"].close()

    return namespace["app"], close


def cpu_per_post(project: Any, baseline: Any, floor: Any, token: str, extra: dict,
                 bodies: list[dict]) -> dict[str, float]:
    """Milliseconds of CPU per post of each side, and of a refused request (each request's
    WSGI environ is built before the clock starts)."""
    auth = {"Authorization": f"Bearer {token}"}
    queue = iter(bodies)
    refused = iter(range(1, 10**6))
    sides = {  # side: (app, what it answers, the next request's environ)
        "project": (project, "201", lambda: _environ(
            "/api/v1/work-logs", {**next(queue), "notes": "bench-cpu"}, auth, "127.0.0.1")),
        "floor": (floor, "201", lambda: _environ(
            "/work-logs", {**next(queue), "notes": "bench-cpu"}, auth, "127.0.0.1")),
        "baseline": (baseline, "201", lambda: _environ(
            "/work-logs", {**next(queue), **extra, "notes": "bench-cpu"}, {}, "127.0.0.1")),
        "refused": (project, "401", lambda: _environ(
            "/api/v1/work-logs", {"notes": "x"}, {}, _address(next(refused)))),
    }
    for app, expect, environ in sides.values():  # warm up: pools, prepared statements, caches
        for _ in range(5):
            _call(app, environ(), expect)
    best = dict.fromkeys(sides, float("inf"))
    for _ in range(CHUNKS):
        for side, (app, expect, environ) in sides.items():
            environs = [environ() for _ in range(CHUNK)]
            started = time.process_time()
            for env in environs:
                _call(app, env, expect)
            best[side] = min(best[side], (time.process_time() - started) / CHUNK * 1000)
    return best


def posts_needed() -> int:
    """Bodies ``cpu_per_post`` takes (the refused requests need none)."""
    return 3 * (5 + CHUNKS * CHUNK)


def _address(n: int) -> str:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255 or 1}"
