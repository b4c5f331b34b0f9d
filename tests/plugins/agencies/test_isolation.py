"""An agency user never reads or changes another agency's engagement, logs, files or staff:
every route of the plugin (portal, API, admin) is tried with the other agency's ids."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from core.extensions import db
from core.models import Attachment
from tests.support import csrf_from

PLUGIN_BLUEPRINTS = ("agency_portal", "agencies_api")
ADMIN_ENDPOINTS = ("engagement", "work_log", "agency", "agency_staff", "agency_member")


def _plugin_rules(app):
    return [r for r in app.url_map.iter_rules()
            if r.endpoint.split(".")[0] in PLUGIN_BLUEPRINTS]


def _upload_for(login, world):
    """agency01 logs work with a file; returns the attachment id."""
    c = login("agency01")
    eng = world.engagement_ids[0]
    page = c.get(f"/portal/engagements/{eng}")
    r = c.post(f"/portal/engagements/{eng}", data={
        "csrf_token": csrf_from(page.text), "work_date": "2026-04-02",
        "staff_id": str(world.staff_ids[0][0]), "hours": "2", "activity": "site_visit",
        "notes": f"secret{world.tag}0", "file": (io.BytesIO(b"field notes"), "notes.txt")},
        content_type="multipart/form-data")
    assert r.status_code == 302, r.text
    return c


def _state(app, world):
    from plugins.agencies.models import Engagement, WorkLog

    with app.app_context():
        logs = db.session.execute(select(WorkLog.id, WorkLog.hours, WorkLog.notes,
                                         WorkLog.submitted_at).order_by(WorkLog.id)).all()
        engs = db.session.execute(select(Engagement.id, Engagement.state, Engagement.closed_at,
                                         Engagement.version)).all()
        files = db.session.scalar(select(func.count(Attachment.id)))
    return logs, engs, files


def test_every_plugin_route_refuses_another_agencys_rows(app, login, world, token_for):
    owner = _upload_for(login, world)
    with app.app_context():
        from plugins.agencies.models import WorkLog

        log_ids = list(db.session.scalars(select(WorkLog.id).where(
            WorkLog.engagement_id == world.engagement_ids[0])))
        attachment_id = db.session.scalar(select(Attachment.id).where(
            Attachment.object_type == "work_log", Attachment.object_id.in_(log_ids)))
    assert attachment_id
    assert owner.get(f"/portal/files/{attachment_id}").data == b"field notes"

    ids = {"engagement_id": world.engagement_ids[0], "log_id": world.log_ids[0],
           "attachment_id": attachment_id}
    secret = f"secret{world.tag}0"
    victim_staff = f"测试员{world.tag}0"
    intruder = login("agency02")
    own_page = intruder.get(f"/portal/engagements/{world.engagement_ids[1]}")
    assert own_page.status_code == 200
    csrf = csrf_from(own_page.text)
    headers = token_for("agency02")
    before = _state(app, world)
    tested = set()
    for rule in _plugin_rules(app):
        url = rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]
        api = rule.rule.startswith("/api/v1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            tested.add((rule.rule, method))
            kwargs = {"headers": headers} if api else {}
            if method == "POST":
                body = {"engagement_id": world.engagement_ids[0],
                        "staff_id": world.staff_ids[0][0], "work_date": "2026-04-03",
                        "hours": "1", "activity": "survey"}
                kwargs.update({"json": body} if api else {"data": {**body, "csrf_token": csrf}})
            elif method == "PATCH":
                kwargs["json"] = {"notes": "changed by another agency", "hours": "9"}
            r = getattr(intruder if not api else app.test_client(), method.lower())(url, **kwargs)
            where = f"{method} {url}"
            if rule.arguments:
                assert r.status_code == 404, f"{where}: {r.status_code}"
            elif method == "GET":
                assert r.status_code == 200, where
            else:  # creating a log on the other agency's engagement
                assert r.status_code in (404, 422), f"{where}: {r.status_code}"
            assert secret not in r.text and victim_staff not in r.text, where
    assert tested == {(r.rule, m) for r in _plugin_rules(app)
                      for m in r.methods - {"HEAD", "OPTIONS"}}
    # the admin pages, their exports and the core download route
    for endpoint in ADMIN_ENDPOINTS:
        for suffix in ("/", "/export/csv/", f"/details/?id={ids['engagement_id']}",
                       f"/edit/?id={ids['engagement_id']}"):
            r = intruder.get(f"/admin/{endpoint}{suffix}")
            assert secret not in r.text and victim_staff not in r.text, endpoint + suffix
    r = intruder.get(f"/admin/work_log/details/?id={ids['log_id']}")
    assert r.status_code in (302, 404) and secret not in r.text
    r = intruder.get(f"/admin/engagement/review/?id={ids['engagement_id']}")
    assert r.status_code == 404
    assert intruder.get(f"/attachments/{attachment_id}").status_code == 404
    assert _state(app, world) == before, "another agency changed something"


def test_agency_user_lists_hold_only_their_own_agency(app, login, world, token_for):
    from plugins.agencies.models import Engagement, WorkLog

    with app.app_context():
        own = set(db.session.scalars(select(Engagement.id).where(
            Engagement.agency_id == world.agency_ids[0])))
        own_logs = set(db.session.scalars(select(WorkLog.id).where(
            WorkLog.agency_id == world.agency_ids[0])))
    c = app.test_client()
    headers = token_for("agency01")
    body = c.get("/api/v1/engagements?per_page=200", headers=headers).get_json()
    assert {e["id"] for e in body["items"]} == own
    body = c.get("/api/v1/work-logs?per_page=200", headers=headers).get_json()
    assert {w["id"] for w in body["items"]} == own_logs
    page = login("agency01").get("/portal/")
    assert f"测试委托{world.tag}0" in page.text and f"测试委托{world.tag}1" not in page.text
    staff = login("agency01").get("/portal/staff")
    assert f"测试员{world.tag}00" in staff.text and f"测试员{world.tag}10" not in staff.text


def test_department_sees_logs_read_only_and_finance_sees_all(app, login, world, token_for):
    dept = login("dept01")
    page = dept.get("/admin/work_log/")
    assert page.status_code == 200 and 'href="/admin/work_log/new/' not in page.text
    r = app.test_client().post("/api/v1/work-logs", headers=token_for("dept01"), json={
        "engagement_id": world.engagement_ids[0], "staff_id": world.staff_ids[0][0],
        "work_date": "2026-04-03", "hours": "1", "activity": "survey"})
    assert r.status_code == 403
    other = login("dept02").get(f"/admin/engagement/review/?id={world.engagement_ids[0]}")
    assert other.status_code == 404
    fin = app.test_client().get(f"/api/v1/work-logs?engagement_id={world.engagement_ids[1]}",
                                headers=token_for("finance")).get_json()
    assert {w["id"] for w in fin["items"]} == {world.log_ids[1]}
