"""A web worker killed in the middle of an Excel import leaves nothing behind.

The real app runs under gunicorn (two workers) on the run's database. A
throw-away module wraps ``wsgi``'s app with one addition, for this test only: an
engine hook that, once per test (a marker file), stops inside the import's
transaction right after the second batch of indicators has been sent to the
database (so a design that committed batch by batch would leave the first), writes the worker's pid to the marker and waits. The test then
SIGKILLs that worker: the transaction dies with it. Afterwards no sheet and no
indicator of the file exists, the audit chain verifies, and the same upload to
the same server (a fresh worker) imports every row.
"""

from __future__ import annotations

import io
import os
import secrets
import signal
import textwrap
import threading
from decimal import Decimal

import pytest
import requests
from openpyxl import Workbook
from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import AuditLog, BudgetItem, FiscalYear, ItemKind, OrgUnit, WorkflowEvent
from core.services.audit_check import verify
from plugins.system.demo import DEMO_PASSWORD
from plugins.targets.excel_io import CHUNK, HEADERS
from plugins.targets.models import TargetIndicator, TargetRevision, TargetSheet
from tests.faults.support import Gunicorn, app_env, wait_for
from tests.support import csrf_from

ITEMS, PER_ITEM = 110, 20  # 2,200 indicators: two insert batches (CHUNK = 2,000)

PAUSING_APP = textwrap.dedent('''
    """wsgi's app, pausing once after the second INSERT into FAULT_TABLE (test only)."""
    import os
    import time
    from pathlib import Path

    from sqlalchemy import event

    from core.extensions import db
    from wsgi import app

    MARKER = Path(os.environ["FAULT_MARKER"])
    PREFIX = "INSERT INTO " + os.environ["FAULT_TABLE"]
    SEEN = []


    def _pause(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(PREFIX) and not MARKER.exists():
            SEEN.append(statement)
            if len(SEEN) < 2:
                return
            MARKER.write_text(str(os.getpid()))
            time.sleep(600)  # until the test kills this worker


    with app.app_context():
        event.listen(db.engine, "after_cursor_execute", _pause)
''')


@pytest.fixture
def items(app):
    """ITEMS new 2026 project items of unit D01U01 without targets (removed afterwards)."""
    tag = secrets.token_hex(3).upper()
    with app.app_context():
        year = db.session.scalar(select(FiscalYear.id).where(FiscalYear.year == 2026))
        unit = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "D01U01"))
        rows = [BudgetItem(code=f"2026-K{tag}-{n:03d}", name=f"断电测试项目{n}",
                           fiscal_year_id=year, org_unit_id=unit, kind=ItemKind.PROJECT,
                           amount=Decimal("1000.00")) for n in range(ITEMS)]
        db.session.add_all(rows)
        db.session.commit()
        out = {i.id: i.code for i in rows}
    yield out
    with app.app_context():
        sheets = list(db.session.scalars(select(TargetSheet.id).where(
            TargetSheet.budget_item_id.in_(out))))
        db.session.execute(delete(TargetIndicator).where(TargetIndicator.sheet_id.in_(sheets)))
        db.session.execute(delete(TargetRevision).where(TargetRevision.sheet_id.in_(sheets)))
        db.session.execute(delete(WorkflowEvent).where(
            WorkflowEvent.object_type == "target_sheet", WorkflowEvent.object_id.in_(sheets)))
        db.session.execute(delete(TargetSheet).where(TargetSheet.id.in_(sheets)))
        db.session.execute(delete(BudgetItem).where(BudgetItem.id.in_(out)))
        db.session.commit()


def target_workbook(codes) -> bytes:
    """PER_ITEM output indicators of weight 100 / PER_ITEM for each item: a clean file."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("绩效目标")
    ws.append(list(HEADERS.values()))
    weight = 100 // PER_ITEM
    for code in codes:
        for n in range(PER_ITEM):
            ws.append([code, "", "完成建设任务" if n == 0 else "", "产出", "数量",
                       f"完成数量{n}", "≥", 10 + n, "个", weight, "", "", ""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def written(app, item_ids) -> tuple[int, int]:
    """(sheets, indicators) of the items in the database."""
    with app.app_context():
        sheets = db.session.scalar(select(func.count(TargetSheet.id)).where(
            TargetSheet.budget_item_id.in_(item_ids)))
        indicators = db.session.scalar(
            select(func.count(TargetIndicator.id)).join(
                TargetSheet, TargetSheet.id == TargetIndicator.sheet_id)
            .where(TargetSheet.budget_item_id.in_(item_ids)))
        db.session.rollback()
    return sheets, indicators


def audit_state(app) -> tuple[bool, int]:
    """(the chain verifies, bulk entries on target_indicator)."""
    with app.app_context():
        ok = verify(db.session).ok
        bulk = db.session.scalar(select(func.count(AuditLog.id)).where(
            AuditLog.object_type == "target_indicator", AuditLog.action == "bulk_insert"))
        db.session.rollback()
    return ok, bulk


def upload(server: Gunicorn, session: requests.Session, data: bytes) -> requests.Response:
    page = session.get(server.url + "/admin/targetsheet/import/?year=2026", timeout=30)
    return session.post(server.url + "/admin/targetsheet/import/", allow_redirects=False,
                        timeout=300, data={"csrf_token": csrf_from(page.text), "year": "2026"},
                        files={"file": ("targets.xlsx", data)})


def test_a_worker_killed_mid_import_leaves_nothing_and_the_retry_imports_all(
        app, items, database_url, instance_path, tmp_path):
    assert ITEMS * PER_ITEM > CHUNK  # the pause comes with a batch written, more to come
    marker = tmp_path / "paused.pid"
    (tmp_path / "pausing_app.py").write_text(PAUSING_APP, encoding="utf-8")
    data = target_workbook(items.values())
    _ok, bulk_before = audit_state(app)
    server = Gunicorn("pausing_app:app", app_env(
        database_url, instance_path, tmp_path, FAULT_MARKER=str(marker),
        FAULT_TABLE=TargetIndicator.__tablename__), tmp_path / "gunicorn.log")
    try:
        session = server.login("unit0101", DEMO_PASSWORD)
        answers: list = []

        def first_try():
            try:
                answers.append(upload(server, session, data))
            except requests.RequestException as exc:
                answers.append(exc)

        thread = threading.Thread(target=first_try)
        thread.start()
        pid = int(wait_for(lambda: marker.exists() and marker.read_text(), 120,
                           "the import to reach its second indicator batch"))
        assert pid in server.worker_pids()
        os.kill(pid, signal.SIGKILL)
        thread.join(60)
        assert not thread.is_alive()
        # the client saw the connection drop, not a success
        assert len(answers) == 1 and isinstance(answers[0], requests.ConnectionError), answers

        assert written(app, list(items)) == (0, 0)  # nothing of the file, not one batch
        ok, bulk_after_kill = audit_state(app)
        assert ok and bulk_after_kill == bulk_before

        # gunicorn replaced the worker; the same upload now imports every row
        wait_for(lambda: len(server.worker_pids()) == 2 and pid not in server.worker_pids(),
                 60, "gunicorn to replace the killed worker")
        retry = upload(server, session, data)
        assert retry.status_code == 302, retry.text[-3000:]
        assert written(app, list(items)) == (ITEMS, ITEMS * PER_ITEM)
        ok, bulk_after_retry = audit_state(app)
        assert ok and bulk_after_retry > bulk_before
        assert server.alive()
    finally:
        server.stop()
