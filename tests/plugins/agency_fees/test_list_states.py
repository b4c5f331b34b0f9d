"""The quote list: the state in words and the department filter."""

from __future__ import annotations

from core.models import State
from plugins.agency_fees.models import FeeQuote
from tests.support import assert_state_filter, filter_options

URL = "/admin/fee_quote/"


def test_a_submitted_quote_waits_for_finance(app, login):
    assert_state_filter(app, login("finance"), URL, FeeQuote, "待财政审核",
                        FeeQuote.state == State.SUBMITTED)


def test_department_filter_is_offered(login):
    assert filter_options(login("finance").get(URL).text, "部门")
