"""The shipped config/gunicorn.conf.py serves the production app with several workers.

A real gunicorn on a free loopback port, on the run's database, with the
production settings an operator uses (JIXIAO_ENV=production, a real secret key,
JIXIAO_TRUSTED_PROXIES=1); it is stopped with SIGTERM, as systemd does.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "gunicorn.conf.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def gunicorn(app, database_url, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}
    env.update(JIXIAO_ENV="production", JIXIAO_SECRET_KEY="gunicorn-test-" + "k" * 40,
               JIXIAO_DATABASE_URL=database_url, JIXIAO_INSTANCE_PATH=str(tmp_path),
               JIXIAO_TRUSTED_PROXIES="1", WEB_CONCURRENCY="2",
               GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port}")
    log = (tmp_path / "gunicorn.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(CONFIG)],  # noqa: S603
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"gunicorn did not start (exit {proc.poll()}):\n{log.read()}")
            time.sleep(0.5)
        yield base, proc, log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def test_gunicorn_config_serves_the_production_app_with_two_workers(gunicorn):
    base, proc, log = gunicorn

    status, _, body = get(f"{base}/healthz")
    login_status, headers, page = get(f"{base}/login", {"X-Forwarded-Proto": "https",
                                                        "X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    proc.send_signal(signal.SIGTERM)
    exit_code = proc.wait(timeout=60)
    log.seek(0)
    output = log.read()

    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert login_status == 200 and 'name="username"' in page.decode()
    # behind the proxy (TRUSTED_PROXIES=1) the request counts as HTTPS: HSTS and a Secure cookie
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in headers.get("Set-Cookie", "")
    assert output.count("Booting worker") == 2, output
    # the access log names the client the app trusts: not the proxy, nor the forged first value
    assert any(line.startswith('203.0.113.7 "GET /login') for line in output.splitlines()), output
    assert "6.6.6.6" not in output
    assert exit_code == 0, output
