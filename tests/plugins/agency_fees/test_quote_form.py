"""The quote form stores an engagement's quote like the API: an evaluated amount left
empty is the engagement's (its budget items), not zero."""

from __future__ import annotations

from tests.plugins.agency_fees.test_engagement_fees import quote_of
from tests.support import csrf_from


def test_an_empty_evaluated_amount_on_the_form_is_the_engagements(
        app, login, code, make_schedule, engagements):
    sid = make_schedule()
    eid = engagements["ids"][0]
    c = login("finance")
    page = c.get(f"/admin/fee_quote/calculate/?schedule_id={sid}")
    r = c.post("/admin/fee_quote/calculate/", data={
        "csrf_token": csrf_from(page.text), "schedule_id": sid, "object_kind": "project",
        "stage": "evaluation", "evaluated_amount": "", "staff_senior": "20",
        "engagement_id": eid, "save": "1"})
    assert r.status_code == 302, r.text
    stored = quote_of(app, eid)
    assert stored.inputs["evaluated_amount"] == "3000000.00"  # its two budget items
    assert str(stored.scale_fee) == "40000.00"
    sheet = c.get(r.headers["Location"])
    assert "3000000.00" in sheet.text
