"""Monitoring lists: whose review a row waits for, the department filter, the org unit."""

from __future__ import annotations

from core.models import State
from plugins.monitoring.models import CorrectiveDecision, MonitoringRecord
from tests.support import assert_department_filter, assert_state_filter, column_texts

RECORDS = "/admin/monitoringrecord/"
DECISIONS = "/admin/correctivedecision/"


def test_records_wait_for_the_department_decisions_for_finance(app, login):
    finance = login("finance")
    assert_state_filter(app, finance, RECORDS, MonitoringRecord, "待部门审核",
                        MonitoringRecord.state == State.SUBMITTED)
    assert_state_filter(app, finance, RECORDS, MonitoringRecord, "待单位提交",
                        MonitoringRecord.state == State.DRAFT)
    assert_state_filter(app, finance, DECISIONS, CorrectiveDecision, "待财政审核",
                        CorrectiveDecision.state == State.SUBMITTED)


def test_filter_by_department(app, login):
    assert_department_filter(app, login("finance"), RECORDS, MonitoringRecord)


def test_org_unit_is_filled_on_every_row(login):
    page = login("finance").get(RECORDS).text
    names = column_texts(page, "所属机构")
    assert names and all(names), names
