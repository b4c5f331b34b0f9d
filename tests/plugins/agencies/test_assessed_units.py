"""The units whose budget items an engagement assesses see it, read-only."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import OrgUnit


def _commission_by_finance(app, world) -> int:
    """Move the first engagement to the finance bureau as commissioning party."""
    from plugins.agencies.models import Engagement, WorkLog

    with app.app_context():
        bureau = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "CZJ"))
        eng = db.session.get(Engagement, world.engagement_ids[0])
        eng.org_unit_id = bureau.id
        for log in db.session.scalars(select(WorkLog).where(WorkLog.engagement_id == eng.id)):
            log.org_unit_id = bureau.id
        db.session.commit()
        return eng.id


def _listed(app, headers) -> set[int]:
    body = app.test_client().get("/api/v1/engagements?per_page=200", headers=headers).get_json()
    return {e["id"] for e in body["items"]}


def test_assessed_unit_and_its_department_see_a_finance_engagement(app, world, token_for,
                                                                    login):
    eng = _commission_by_finance(app, world)
    # the items are D01U01's: that unit and its department see the engagement
    assert eng in _listed(app, token_for("unit0101"))
    assert eng in _listed(app, token_for("dept01"))
    assert login("unit0101").get(f"/admin/engagement/details/?id={eng}").status_code == 200
    # another unit of the same department and another department do not
    assert eng not in _listed(app, token_for("unit0102"))
    assert eng not in _listed(app, token_for("dept02"))
    r = app.test_client().get(f"/api/v1/engagements/{eng}", headers=token_for("dept02"))
    assert r.status_code == 404
    # nor do they see the agency's work logs: those stay with the commissioning party
    logs = app.test_client().get(f"/api/v1/work-logs?engagement_id={eng}",
                                 headers=token_for("dept01")).get_json()
    assert logs["items"] == []


def test_assessed_department_cannot_change_a_finance_engagement(app, world, login):
    from plugins.agencies.models import Engagement

    eng = _commission_by_finance(app, world)
    dept = login("dept01")
    page = dept.get(f"/admin/engagement/edit/?id={eng}")
    assert page.status_code in (403, 404) or "CZJ" not in page.text
    with app.app_context():
        before = db.session.get(Engagement, eng).title
    from tests.support import csrf_from

    form = dept.get(f"/admin/engagement/details/?id={eng}")
    token = csrf_from(form.text) if "csrf_token" in form.text else ""
    dept.post(f"/admin/engagement/edit/?id={eng}", data={"csrf_token": token,
                                                         "title": "改了"})
    with app.app_context():
        assert db.session.get(Engagement, eng).title == before
