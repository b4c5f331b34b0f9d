#!/usr/bin/env python3
"""Two commands for working on Jixiao, needing nothing but Python 3.11+ (stdlib only).

    python3 dev.py run    set up .venv, build the SQLite database under instance/,
                          load the demo data and serve on http://127.0.0.1:5000/
    python3 dev.py test   ruff, import contracts, bandit, dependency audit, then pytest
                          on SQLite and on PostgreSQL side by side (output lines
                          prefixed [sqlite] / [postgresql]), then the browser
                          journeys (journeys/, Debian's chromium) after PostgreSQL

``run``: JIXIAO_HOST / JIXIAO_PORT change the address; arguments after ``run`` go to
``flask run`` (e.g. ``--reload``). ``test``: ``--sqlite-only`` / ``--pg-only`` pick one
backend; every other argument goes to pytest (``python3 dev.py test -k login -x``).
The PostgreSQL run uses JIXIAO_TEST_DATABASE_URL when it names a PostgreSQL server,
else postgresql+psycopg://postgres@127.0.0.1:5432/test; a fresh database is made
from it for each run. Both backends must pass: an unreachable server is a failure.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
EXE = ".exe" if os.name == "nt" else ""
STAMP = VENV / ".jixiao-pyproject.sha256"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
USAGE = "usage: python3 dev.py run [flask run options] | test [--sqlite-only|--pg-only] [pytest args]"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def call(argv: list[str], env: dict[str, str] | None = None,
         capture: bool = False) -> subprocess.CompletedProcess:
    """Run a program from this checkout or .venv (argv fixed here, never user text)."""
    return subprocess.run(argv, cwd=ROOT, env=env or venv_env(),  # noqa: S603
                          capture_output=capture, text=True)


def tool(name: str) -> str:
    return str(BIN / f"{name}{EXE}")


def venv_env(**changes: str | None) -> dict[str, str]:
    """The environment with .venv activated, plus ``changes`` (None removes a variable)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHOME"}
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def ensure_venv() -> None:
    """Create .venv if missing; ``pip install -e .[dev]`` when pyproject.toml changed.

    The stamp file in .venv holds the hash of pyproject.toml (and of .venv/pyvenv.cfg)
    of the last successful install."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on any python3
        sys.exit(f"Jixiao needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    python = Path(tool("python"))
    if not python.exists():
        say(f"creating the virtual environment in {VENV}")
        # --upgrade-deps: the venv's own pip and setuptools are audited too (docs/security.md)
        if call([sys.executable, "-m", "venv", "--upgrade-deps", str(VENV)],
                env=dict(os.environ)).returncode:
            sys.exit("Could not create .venv (on Debian/Ubuntu: apt-get install python3-venv).")
    # pyvenv.cfg names the interpreter: a .venv rebuilt on another Python reinstalls too
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()
                            + (VENV / "pyvenv.cfg").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    say("installing Jixiao and its dev tools into .venv (pip install -e .[dev])")
    rc = call([str(python), "-m", "pip", "install", "-e", ".[dev]"]).returncode
    if rc != 0:
        sys.exit(f"pip install failed (exit {rc}); fix the error above and run again.")
    STAMP.write_text(digest + "\n")


# --------------------------------------------------------------------------- run

def flask(*args: str, env: dict[str, str]) -> None:
    say(shlex.join(["flask", *args]))
    rc = call([tool("flask"), "--app", "wsgi", *args], env=env).returncode
    if rc != 0:
        sys.exit(f"`flask {' '.join(args)}` failed (exit {rc}).")


def run(extra: list[str]) -> int:
    host = os.environ.get("JIXIAO_HOST", "127.0.0.1")
    port = os.environ.get("JIXIAO_PORT", "5000")
    env = venv_env()
    flask("jixiao", "init-db", env=env)
    flask("jixiao", "seed-demo", "--if-empty", "--scale", "district", env=env)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - display only # nosec
    shown = f"[{shown}]" if ":" in shown else shown
    print(f"\nJixiao: http://{shown}:{port}/   (Ctrl-C stops it)\n\nDemo logins:", flush=True)
    call([tool("flask"), "--app", "wsgi", "jixiao", "demo-logins"], env=env)
    print(flush=True)
    try:
        return call([tool("flask"), "--app", "wsgi", "run", "--host", host, "--port", port,
                     *extra], env=env).returncode
    except KeyboardInterrupt:
        return 0


# -------------------------------------------------------------------------- test

PG_CHECK = """
import sys
from sqlalchemy import create_engine, text
try:
    with create_engine(sys.argv[1], connect_args={"connect_timeout": 5}).connect() as conn:
        conn.execute(text("select 1"))
except Exception as exc:
    error = getattr(exc, "orig", None) or exc
    sys.exit(f"{type(error).__name__}: {' '.join(str(error).split())}")
"""


def pg_url() -> str:
    url = os.environ.get("JIXIAO_TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else DEFAULT_PG_URL


def pg_reachable(url: str) -> str | None:
    """None when PostgreSQL answers at ``url``, else the error's last line."""
    done = call([tool("python"), "-c", PG_CHECK, url], capture=True)
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit {done.returncode}"


def security_steps(results: list[tuple[str, int, float]]) -> None:
    """bandit (medium and high findings fail) and the dependency audit (docs/security.md)."""
    step("bandit", [tool("bandit"), "-c", "pyproject.toml", "-r", ".", "-q",
                    "--severity-level", "medium"], results)
    step("dependency audit", [tool("python"), "scripts/audit_dependencies.py"], results)


def step(name: str, argv: list[str], results: list[tuple[str, int, float]],
         **env: str | None) -> None:
    say(f"{name}: {shlex.join([Path(argv[0]).name, *argv[1:]])}")
    started = time.monotonic()
    rc = call(argv, env=venv_env(**env)).returncode
    if rc == 5 and argv[0] == tool("pytest"):
        print("pytest collected no tests: that is a failure here.", flush=True)
    results.append((name, rc, time.monotonic() - started))


BROWSER_PACKAGES = ["chromium", "fonts-wqy-zenhei"]  # the browser and a font for Chinese
CHROMIUM = Path(os.environ.get("JIXIAO_CHROMIUM", "/usr/bin/chromium"))


def ensure_chromium() -> str | None:
    """None when Debian's chromium is there (installed with apt-get as root if not),
    else why not. Playwright's own browser download does not work everywhere."""
    if CHROMIUM.exists():
        return None
    if os.name != "posix" or os.geteuid() != 0 or not Path("/usr/bin/apt-get").exists():
        return (f"chromium is missing at {CHROMIUM}: install it (apt-get install "
                f"{' '.join(BROWSER_PACKAGES)}) or set JIXIAO_CHROMIUM")
    say(f"installing {' '.join(BROWSER_PACKAGES)} with apt-get")
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", *BROWSER_PACKAGES]):
        if subprocess.run(argv, env=apt_env).returncode != 0:  # noqa: S603
            return f"`{' '.join(argv)}` failed"
    return None if CHROMIUM.exists() else f"apt-get did not install {CHROMIUM}"


def lane(tag: str, steps: list[tuple[str, list[str], dict[str, str | None]]],
         results: list[tuple[str, int, float]], lock: threading.Lock) -> None:
    """Run ``steps`` one after the other, each output line prefixed with ``[tag]``."""
    for name, argv, env in steps:
        with lock:
            say(f"{name}: {shlex.join([Path(argv[0]).name, *argv[1:]])}")
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=ROOT, env=venv_env(**env), text=True,  # noqa: S603
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
        assert proc.stdout is not None
        for line in proc.stdout:
            with lock:
                print(f"[{tag}] {line}", end="", flush=True)
        rc = proc.wait()
        if rc == 5 and argv[0] == tool("pytest"):
            with lock:
                print(f"[{tag}] pytest collected no tests: that is a failure here.", flush=True)
        results.append((name, rc, time.monotonic() - started))


def test(args: list[str]) -> int:
    backends = ["sqlite", "postgresql"]
    pytest_args: list[str] = []
    for arg in args:
        if arg == "--sqlite-only":
            backends = ["sqlite"]
        elif arg == "--pg-only":
            backends = ["postgresql"]
        else:
            pytest_args.append(arg)
    results: list[tuple[str, int, float]] = []
    step("ruff", [tool("ruff"), "check", "."], results)
    step("import contracts", [tool("lint-imports"), "--no-logo", "--no-cache"], results)
    security_steps(results)
    # One lane per backend, run side by side: each pytest process is single-threaded and
    # owns its own database, so on two cores the whole run takes about the longer lane.
    lanes: dict[str, list[tuple[str, list[str], dict[str, str | None]]]] = {}
    env: dict[str, str | None] = {}
    for backend in backends:
        name = f"pytest ({backend})"
        env = {"JIXIAO_TEST_DATABASE_URL": None}  # unset: SQLite
        if backend == "postgresql":
            url = pg_url()
            error = pg_reachable(url)
            if error:
                shown = re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
                say(f"{name}: PostgreSQL is not reachable at {shown}\n    {error}\n"
                    "    Start PostgreSQL or set JIXIAO_TEST_DATABASE_URL to a server where "
                    "this user may CREATE DATABASE (--sqlite-only skips it locally).")
                results.append((name, 1, 0.0))
                continue
            env = {"JIXIAO_TEST_DATABASE_URL": url}
        lanes[backend] = [(name, [tool("pytest"), *pytest_args], env)]

    # The journeys run once, after the last backend's tests in its lane (PostgreSQL
    # unless --sqlite-only), and only for a whole run: extra pytest arguments name unit tests.
    if not pytest_args and lanes:
        missing = ensure_chromium()
        if missing:
            say(f"browser journeys: {missing}")
            results.append(("browser journeys", 1, 0.0))
        else:
            last = list(lanes)[-1]
            lanes[last].append(("browser journeys", [tool("pytest"), "journeys"],
                                lanes[last][-1][2]))
    lock = threading.Lock()
    threads = [threading.Thread(target=lane, args=(tag, steps, results, lock))
               for tag, steps in lanes.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failed = [name for name, rc, _ in results if rc != 0]
    print(flush=True)
    for name, rc, seconds in results:
        print(f"    {'ok  ' if rc == 0 else 'FAIL'}  {name:<22} {seconds:6.1f}s"
              + ("" if rc == 0 else f"  (exit {rc})"))
    if failed:
        print(f"dev.py test: FAILED ({', '.join(failed)})", flush=True)
        return 1
    print(f"dev.py test: OK ({len(results)} steps passed)", flush=True)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"], ["help"]):
        print(__doc__)
        return 0
    if not argv or argv[0] not in ("run", "test"):
        print(USAGE, file=sys.stderr)
        return 2
    os.chdir(ROOT)
    try:
        ensure_venv()
        return run(argv[1:]) if argv[0] == "run" else test(argv[1:])
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
