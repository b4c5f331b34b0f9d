"""What the fault tests share: processes of the real app that a test may kill, and a
PostgreSQL cluster of the test's own that it may restart.

Everything listens on 127.0.0.1 only, on a free port, and is stopped by the test
(or at the latest when its fixture ends).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.pg_bin import server_bin
from tests.support import csrf_from

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = server_bin()  # any installed version; JIXIAO_PG_BIN overrides


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, step: float = 0.1):
    """Poll ``check()`` until it returns something true; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def app_env(database_url: str, instance_path: str, extra_path: Path | None = None,
            **more: str) -> dict[str, str]:
    """The environment of a subprocess running the app on ``database_url``."""
    env = {**os.environ, "JIXIAO_DATABASE_URL": database_url, "JIXIAO_ENV": "testing",
           "JIXIAO_INSTANCE_PATH": instance_path,
           "PYTHONPATH": os.pathsep.join(str(p) for p in (extra_path, ROOT) if p), **more}
    env.pop("JIXIAO_DISABLED_PLUGINS", None)
    return env


class Process:
    """A subprocess of the app with its output in ``log``; ``stop`` ends it (SIGTERM, then
    SIGKILL) and is safe to call twice."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path):
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out,
                                         stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Gunicorn(Process):
    """``gunicorn -w WORKERS MODULE`` on a free loopback port."""

    def __init__(self, module: str, env: dict[str, str], log: Path, workers: int = 2):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__([sys.executable, "-m", "gunicorn", "-w", str(workers),
                          "-b", f"127.0.0.1:{self.port}", "--timeout", "120", module],
                         env, log)
        try:
            wait_for(self._answers, 120, f"gunicorn on :{self.port} to answer", step=0.3)
        except BaseException as exc:
            self.stop()  # never leave a server behind
            raise AssertionError(f"{exc}\n{self.output()[-3000:]}") from exc

    def _answers(self) -> bool:
        assert self.alive(), self.output()[-3000:]
        try:
            return requests.get(self.url + "/login", timeout=30).status_code == 200
        except requests.RequestException:
            return False

    def stop(self, timeout: float = 20) -> int:
        """Stop the master and make sure no worker outlives it (one may be held on purpose)."""
        workers = self.worker_pids() if self.alive() else set()
        code = super().stop(timeout)
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return code

    def worker_pids(self) -> set[int]:
        """The master's children: its workers (gunicorn replaces one that dies)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(p) for p in children.read_text().split()}

    def login(self, username: str, password: str) -> requests.Session:
        """A session logged in through the login form (CSRF token and all)."""
        session = requests.Session()
        session.post(self.url + "/login", allow_redirects=False, timeout=30, data={
            "username": username, "password": password,
            "csrf_token": csrf_from(session.get(self.url + "/login", timeout=30).text)}
        ).raise_for_status()
        return session


# --- a private PostgreSQL cluster ----------------------------------------------------------

def pg_missing() -> str | None:
    """Why no private cluster can be made here (None when it can)."""
    if PG_BIN is None:
        return ("no PostgreSQL server binaries (initdb, pg_ctl, postgres) on this machine: "
                "install postgresql or set JIXIAO_PG_BIN")
    if os.geteuid() == 0:
        import pwd

        if not shutil.which("runuser"):
            return "running as root without runuser: initdb refuses root"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' OS user to own the cluster"
    return None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster in a temporary directory, on a free loopback port.

    initdb refuses to run as root, so as root the cluster belongs to the ``postgres``
    OS user (``runuser -u postgres``). Trust authentication, loopback only.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="jixiao-pg-"))
        self.data, self.logfile = self.dir / "data", self.dir / "server.log"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        done = subprocess.run([*self._as, *argv], capture_output=True, text=True, timeout=120)
        log = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
        assert done.returncode == 0, f"{argv[0]} failed: {done.stdout}{done.stderr}\n{log}"

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
                   "-c fsync=off -c max_connections=50")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
                  "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
