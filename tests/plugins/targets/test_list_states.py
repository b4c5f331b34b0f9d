"""The target sheet list says whose review a sheet waits for, and filters by department/unit."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import OrgUnit, State
from plugins.targets.models import TargetSheet
from tests.support import (
    assert_department_filter,
    assert_state_filter,
    filter_options,
    filtered,
    ids_where,
    list_ids,
)

URL = "/admin/targetsheet/"
SHEET = TargetSheet


def test_sheets_waiting_for_the_department_and_for_finance_are_told_apart(app, login):
    finance = login("finance")
    assert_state_filter(app, finance, URL, SHEET, "待部门审核",
                        SHEET.state == State.SUBMITTED, SHEET.review_level == 0)
    assert_state_filter(app, finance, URL, SHEET, "待财政审核",
                        SHEET.state == State.SUBMITTED, SHEET.review_level == 1)
    assert_state_filter(app, finance, URL, SHEET, "待单位提交", SHEET.state == State.DRAFT)
    options = [text for _v, text in filter_options(finance.get(URL).text, "状态")]
    assert options == ["待单位提交", "待部门审核", "待财政审核", "已退回", "已通过"]


def test_filter_by_department(app, login):
    assert_department_filter(app, login("finance"), URL, SHEET)


def test_filter_by_unit(app, login):
    with app.app_context():
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
        name, expected = unit.name, ids_where(SHEET, SHEET.org_unit_id == unit.id)
    ids = list_ids(filtered(login("finance"), URL, "单位", name))
    assert ids and set(ids) <= expected


def test_a_department_is_offered_only_its_own_units(app, login):
    page = login("dept01").get(URL).text
    with app.app_context():
        units = list(db.session.scalars(select(OrgUnit.name).where(
            OrgUnit.code.like("D01U%")).order_by(OrgUnit.code)))
    assert [text for _v, text in filter_options(page, "单位")] == units
