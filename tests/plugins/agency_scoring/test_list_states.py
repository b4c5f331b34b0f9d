"""The assessment list can be filtered by the commissioning department."""

from __future__ import annotations

from tests.support import filter_options

URL = "/admin/agency_assessment/"


def test_department_filter_is_offered(login):
    assert filter_options(login("finance").get(URL).text, "部门")
