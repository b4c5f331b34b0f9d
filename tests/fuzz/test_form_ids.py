"""Ids typed into forms and query strings: a word or a number past INTEGER is "no such row",
never a server error (found reading the admin pages the fuzzers did not reach)."""

from __future__ import annotations

import pytest

from core.db_int import INT_MAX, row_id
from tests.support import csrf_from

BAD_IDS = ["abc", "99999999999", "-1", "１２", " "]


@pytest.mark.parametrize("value, expected", [
    ("12", 12), (" 7 ", 7), (str(INT_MAX), INT_MAX), (str(INT_MAX + 1), None), ("0", None),
    ("-1", None), ("abc", None), ("", None), (None, None), ("１２", None), ("1e3", None)])
def test_row_id_takes_only_ids_the_database_can_hold(value, expected):
    assert row_id(value) == expected


@pytest.mark.parametrize("bad", BAD_IDS)
def test_monitoring_pages_answer_no_such_row_for_a_bad_id(login, bad):
    finance = login("finance")
    assert finance.get("/admin/monitoringrecord/history/", query_string={"item_id": bad}
                       ).status_code == 404
    assert finance.get("/admin/monitoringrecord/template/", query_string={"round": bad}
                       ).status_code == 404
    unit = login("unit0101")
    page = unit.get("/admin/monitoringrecord/import/")
    assert page.status_code == 200
    r = unit.post("/admin/monitoringrecord/import/", data={
        "round": bad, "csrf_token": csrf_from(page.text)})
    assert r.status_code == 200 and "请选择监控批次" in r.text


@pytest.mark.parametrize("bad", BAD_IDS)
def test_key_preassessment_post_answers_no_such_row_for_a_bad_item(login, bad):
    finance = login("finance")
    page = finance.get("/admin/preassessment-key/")
    assert page.status_code == 200
    r = finance.post("/admin/preassessment-key/", data={
        "item_id": bad, "csrf_token": csrf_from(page.text)})
    assert r.status_code == 404


@pytest.mark.parametrize("path", ["/admin/budgetitem/edit/", "/admin/budgetitem/details/",
                                  "/admin/monitoringrecord/record/", "/admin/targetsheet/sheet/"])
@pytest.mark.parametrize("bad", ["99999999999", "abc"])
def test_admin_pages_of_one_row_answer_no_such_row_for_a_bad_id(login, path, bad):
    r = login("finance").get(path, query_string={"id": bad})
    assert r.status_code in (302, 404), r.status_code
