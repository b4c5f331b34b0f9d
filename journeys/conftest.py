"""Browser journeys: the real app under gunicorn, driven by Playwright in Debian's chromium.

``python3 dev.py test`` runs them after the unit tests (``python3 dev.py journeys``
alone). The app runs on a fresh database (PostgreSQL when JIXIAO_TEST_DATABASE_URL
names one, else a SQLite file) with the small demo data; every journey logs in
through the login page like a person. The last page of each journey is saved as
``artifacts/journeys/<name>.png`` (JIXIAO_JOURNEY_ARTIFACTS changes the folder);
docs/guide/ uses those pictures.

Fixtures:
- ``server``: the base URL, e.g. ``http://127.0.0.1:PORT``.
- ``page_as("dept01")``: a new browser context (zh-CN) logged in as that demo user.
- ``visitor()``: a new browser context with nobody logged in.
- ``shot(page, "name")``: the full-page screenshot of a journey's last page.
- ``db``: a SQLAlchemy engine on the app's database, to check what a journey left.
Any JavaScript error on a page, and anything the content security policy blocks,
fails the journey that opened it.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from core.services.temporary_db import temporary_database
from plugins.system.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("JIXIAO_JOURNEY_ARTIFACTS", ROOT / "artifacts" / "journeys"))
CHROMIUM = os.environ.get("JIXIAO_CHROMIUM", "/usr/bin/chromium")
# As root, in a closed network: no sandbox, no background connections (they are refused).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app server did not answer at {url} within {seconds} s")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with temporary_database(os.environ.get("JIXIAO_TEST_DATABASE_URL"), "jixiao_j") as url:
        yield url


@pytest.fixture(scope="session")
def server(database_url, tmp_path_factory) -> Iterator[str]:
    instance = tmp_path_factory.mktemp("instance")
    env = {**os.environ, "JIXIAO_DATABASE_URL": database_url,
           "JIXIAO_INSTANCE_PATH": str(instance), "JIXIAO_ENV": "default",
           "JIXIAO_SECRET_KEY": secrets.token_hex(32)}
    flask = [str(BIN / "flask"), "--app", "wsgi", "jixiao"]
    for args in (["init-db"], ["seed-demo", "--scale", "small"]):
        subprocess.run([*flask, *args], cwd=ROOT, env=env, check=True,  # noqa: S603
                       stdout=subprocess.DEVNULL)
    port = _free_port()
    log = (instance / "gunicorn.log").open("w")
    process = subprocess.Popen(  # noqa: S603
        [str(BIN / "gunicorn"), "--workers", "2", "--threads", "4", "--bind",
         f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if process.returncode not in (0, -15):
            print((instance / "gunicorn.log").read_text()[-5000:], file=sys.stderr)


@pytest.fixture(scope="session")
def db(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def watch(page, errors: list[str]) -> None:
    """Collect the page's JavaScript errors and what the content security policy blocks."""
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if (
        msg.type == "error" and "Content Security Policy" in msg.text) else None)


@pytest.fixture
def _contexts(browser, server) -> Iterator[list]:
    """Every context a journey opens; JS errors on any of its pages fail the journey."""
    contexts: list = []
    errors: list[str] = []

    def new_context():
        context = browser.new_context(base_url=server, locale="zh-CN",
                                      timezone_id="Asia/Shanghai",
                                      viewport={"width": 1366, "height": 900},
                                      accept_downloads=True)
        context.set_default_timeout(15_000)
        context.on("page", lambda page: watch(page, errors))
        contexts.append(context)
        return context

    contexts.append(new_context)
    yield contexts
    for context in contexts[1:]:
        context.close()
    assert not errors, "JavaScript errors:\n" + "\n".join(errors)


@pytest.fixture
def visitor(_contexts):
    """``visitor()`` → a page in a fresh context, nobody logged in."""

    def open_page():
        return _contexts[0]().new_page()

    return open_page


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login page like a person, and land on the dashboard."""
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def page_as(visitor):
    """``page_as("dept01")`` → a page logged in as that demo user (own context)."""

    def open_page(username: str, password: str = DEMO_PASSWORD):
        page = visitor()
        login(page, username, password)
        return page

    return open_page


@pytest.fixture
def shot():
    """``shot(page, "targets_approved")`` saves the page as artifacts/journeys/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take

