"""The monitoring stage's 待办: units report in open rounds, the department accepts,
the finance bureau decides on red items."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from core.models import State
from core.plugins import hooks
from plugins.monitoring.models import CorrectiveDecision, Light, MonitoringRecord
from tests import support


def tasks(app, username):
    with support.signed_in(app, username) as principal:
        return [(str(t.title), t.link, t.due, t.count) for t in
                hooks().tasks(principal=principal, year=2026) if t.stage == "monitoring"]


def set_record(app, record_id, **values):
    with app.app_context():
        record = db.session.get(MonitoringRecord, record_id)
        for key, value in values.items():
            setattr(record, key, value)
        db.session.commit()


def test_reports_due_then_to_review(app, world):
    code, record_id = world.codes[0], world.record_ids[0]
    (report,) = [t for t in tasks(app, "unit0101") if code in t[0]]
    assert "测试批次" in report[0] and report[2].isoformat() == "2026-07-31"
    assert f"/admin/monitoringrecord/record/?id={record_id}" in report[1]
    assert not [t for t in tasks(app, "unit0201") if code in t[0]]
    set_record(app, record_id, state=State.SUBMITTED, review_level=0)
    assert not [t for t in tasks(app, "unit0101") if code in t[0]]
    assert [t for t in tasks(app, "dept01") if code in t[0] and "审核" in t[0]]
    assert not [t for t in tasks(app, "dept02") if code in t[0]]
    set_record(app, record_id, state=State.RETURNED, review_level=0)
    assert "退回" in [t for t in tasks(app, "unit0101") if code in t[0]][0][0]


def test_finance_counts_red_items_without_a_decision(app, world):
    def reds():
        with app.app_context():
            decided = select(CorrectiveDecision.record_id)
            return db.session.scalar(select(func.count(MonitoringRecord.id)).where(
                MonitoringRecord.round_id == world.round_id,
                MonitoringRecord.light == int(Light.RED), MonitoringRecord.id.not_in(decided)))

    def queue():
        return [t for t in tasks(app, "finance") if "测试批次" in t[0]]

    assert reds() == 0 and queue() == []
    set_record(app, world.record_ids[0], light=int(Light.RED))
    set_record(app, world.record_ids[1], light=int(Light.RED))
    (task,) = queue()
    assert task[3] == reds() == 2 and "红灯" in task[0]
    page = support_client(app, "finance").get(task[1])
    assert page.status_code == 200
    assert world.codes[0] in page.text and world.codes[1] in page.text


def support_client(app, username):
    client = app.test_client()
    assert support.do_login(client, username).status_code == 302
    return client
