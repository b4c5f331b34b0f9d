"""Work logs: the portal form and the API, each bad input refused with nothing written."""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import Attachment, utcnow
from tests.support import csrf_from, token_headers


def _count(app) -> tuple[int, int]:
    from plugins.agencies.models import WorkLog

    with app.app_context():
        return (db.session.scalar(select(func.count(WorkLog.id))),
                db.session.scalar(select(func.count(Attachment.id))))


def _post(client, eng_id, **fields):
    page = client.get(f"/portal/engagements/{eng_id}")
    data = {"csrf_token": csrf_from(page.text), "activity": "desk_review", **fields}
    return client.post(f"/portal/engagements/{eng_id}", data=data,
                       content_type="multipart/form-data", follow_redirects=True)


def test_portal_logs_work_with_a_file(app, login, world):
    c = login("agency01")
    eng = world.engagement_ids[0]
    before = _count(app)
    r = _post(c, eng, work_date="2026-05-06", staff_id=str(world.staff_ids[0][1]), hours="7.5",
              location="区教育局", notes="现场核查",
              file=(io.BytesIO(b"%PDF-1.4 report"), "底稿.pdf"))
    assert r.status_code == 200 and "现场核查" in r.text and "底稿.pdf" in r.text
    assert _count(app) == (before[0] + 1, before[1] + 1)


@pytest.mark.parametrize(("fields", "field"), [
    ({"work_date": "2026-11-15", "hours": "2"}, "work_date"),
    ({"work_date": "2026-02-28", "hours": "2"}, "work_date"),
    ({"work_date": "2026-05-06", "hours": "-1"}, "hours"),
    ({"work_date": "2026-05-06", "hours": "25"}, "hours"),
    ({"work_date": "2026-05-06", "hours": "abc"}, "hours"),
    ({"work_date": "6 May", "hours": "2"}, "work_date"),
])
def test_portal_refuses_bad_input_and_writes_nothing(app, login, world, fields, field):
    c = login("agency01")
    before = _count(app)
    r = _post(c, world.engagement_ids[0], staff_id=str(world.staff_ids[0][0]), **fields)
    assert r.status_code == 200
    assert _count(app) == before
    api = app.test_client().post("/api/v1/work-logs", json={
        "engagement_id": world.engagement_ids[0], "staff_id": world.staff_ids[0][0],
        "activity": "desk_review", **fields}, headers=token_headers(app, "agency01"))
    assert api.status_code == 422, api.text
    assert list(api.get_json()["details"]) == [field]
    assert _count(app) == before


def _post_at_once(app, headers, bodies: list[dict]) -> list[tuple[int, list[str]]]:
    """POST every body to the API at the same moment, one client thread each."""
    gate = threading.Barrier(len(bodies))
    answers: list[tuple[int, list[str]]] = []

    def post(body: dict) -> None:
        client = app.test_client()
        gate.wait()
        r = client.post("/api/v1/work-logs", headers=headers, json=body)
        answers.append((r.status_code, list((r.get_json() or {}).get("details") or [])))

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_concurrent_posts_cannot_together_exceed_a_persons_day(app, world):
    """Four clients post 3 h at once for a person with 20 h on the day: one gets in."""
    from plugins.agencies.models import WorkLog

    headers = token_headers(app, "agency01")
    staff_id = world.staff_ids[0][1]
    base = {"engagement_id": world.engagement_ids[0], "staff_id": staff_id,
            "activity": "interview"}
    for day in ("2026-07-01", "2026-07-02", "2026-07-03"):
        first = app.test_client().post("/api/v1/work-logs", headers=headers,
                                       json={**base, "work_date": day, "hours": "20"})
        assert first.status_code == 201, first.text
        answers = _post_at_once(app, headers, [{**base, "work_date": day, "hours": "3"}] * 4)
        assert sorted(answers) == [(201, [])] + [(422, ["hours"])] * 3, answers
        with app.app_context():
            total = db.session.scalar(select(func.sum(WorkLog.hours)).where(
                WorkLog.staff_id == staff_id,
                WorkLog.work_date == date.fromisoformat(day)))
            db.session.rollback()
        assert total == Decimal("23.00")


def test_a_day_over_the_limit_is_refused_with_the_hours_logged_and_nothing_written(app, world):
    """The INSERT checks the person's day itself; refused, the answer says how many hours
    are logged already, reports every other problem with it, and writes neither a log
    nor an audit entry."""
    from core.models import AuditLog

    headers = token_headers(app, "agency01")
    c = app.test_client()
    base = {"engagement_id": world.engagement_ids[0], "staff_id": world.staff_ids[0][0],
            "activity": "site_visit"}
    assert c.post("/api/v1/work-logs", headers=headers,
                  json={**base, "work_date": "2026-06-02", "hours": "22.5"}).status_code == 201
    with app.app_context():
        audit_before = db.session.scalar(select(func.count(AuditLog.id)))
    logs_before = _count(app)
    r = c.post("/api/v1/work-logs", headers=headers,
               json={**base, "work_date": "2026-06-02", "hours": "2"})
    assert r.status_code == 422
    (message,) = r.get_json()["details"]["hours"]
    assert "22.50" in message and "2026-06-02" in message, message
    # a second problem on the same post: both are told at once
    r = c.post("/api/v1/work-logs", headers=headers,
               json={**base, "work_date": "2026-06-02", "hours": "2", "activity": "napping"})
    assert r.status_code == 422 and set(r.get_json()["details"]) == {"hours", "activity"}
    assert _count(app) == logs_before
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditLog.id))) == audit_before
    # 1.5 more hours fit exactly
    assert c.post("/api/v1/work-logs", headers=headers,
                  json={**base, "work_date": "2026-06-02", "hours": "1.5"}).status_code == 201
    # exactly 24 h in hours whose binary sum is above 24 (SQLite adds floats): allowed
    for hours in ("10.63", "11.5", "1.87"):
        r = c.post("/api/v1/work-logs", headers=headers,
                   json={**base, "work_date": "2026-06-03", "hours": hours})
        assert r.status_code == 201, r.text


def test_staff_not_on_team_closed_engagement_and_day_sum(app, world):
    headers = token_headers(app, "agency01")
    c = app.test_client()
    base = {"engagement_id": world.engagement_ids[0], "work_date": "2026-06-01",
            "activity": "interview"}
    before = _count(app)
    # the third staff member is not on the team
    r = c.post("/api/v1/work-logs", headers=headers,
               json={**base, "staff_id": world.staff_ids[0][2], "hours": "2"})
    assert r.status_code == 422 and list(r.get_json()["details"]) == ["staff_id"]
    # another agency's staff member
    r = c.post("/api/v1/work-logs", headers=headers,
               json={**base, "staff_id": world.staff_ids[1][0], "hours": "2"})
    assert r.status_code == 422
    # 20 + 5 hours on one day for one person
    ok = c.post("/api/v1/work-logs", headers=headers,
                json={**base, "staff_id": world.staff_ids[0][0], "hours": "20"})
    assert ok.status_code == 201, ok.text
    r = c.post("/api/v1/work-logs", headers=headers,
               json={**base, "staff_id": world.staff_ids[0][0], "hours": "5"})
    assert r.status_code == 422 and list(r.get_json()["details"]) == ["hours"]
    # another person the same day is fine; updating the 20 to 24 is fine (its own hours
    # do not count twice), to 25 is not
    log_id = ok.get_json()["id"]
    assert c.patch(f"/api/v1/work-logs/{log_id}", headers=headers,
                   json={"hours": "24"}).status_code == 200
    assert c.patch(f"/api/v1/work-logs/{log_id}", headers=headers,
                   json={"hours": "24.5"}).status_code == 422
    assert _count(app)[0] == before[0] + 1
    # floats are refused
    r = c.post("/api/v1/work-logs", headers=headers,
               json={**base, "staff_id": world.staff_ids[0][1], "hours": 2.5})
    assert r.status_code == 422
    # a closed engagement takes no more logs
    from plugins.agencies.models import Engagement

    with app.app_context():
        eng = db.session.get(Engagement, world.engagement_ids[0])
        eng.closed_at = utcnow()
        db.session.commit()
    r = c.post("/api/v1/work-logs", headers=headers,
               json={**base, "staff_id": world.staff_ids[0][1], "hours": "1"})
    assert r.status_code == 422 and list(r.get_json()["details"]) == ["engagement"]
    assert c.patch(f"/api/v1/work-logs/{log_id}", headers=headers,
                   json={"hours": "1"}).status_code == 403
    assert _count(app)[0] == before[0] + 1


def test_forbidden_file_type_is_refused(app, login, world):
    c = login("agency01")
    before = _count(app)
    r = _post(c, world.engagement_ids[0], work_date="2026-05-07",
              staff_id=str(world.staff_ids[0][0]), hours="1",
              file=(io.BytesIO(b"MZ\x90\x00"), "tool.exe"))
    assert r.status_code == 200 and "exe" in r.text
    r = _post(c, world.engagement_ids[0], work_date="2026-05-07",
              staff_id=str(world.staff_ids[0][0]), hours="1",
              file=(io.BytesIO(b"not a pdf"), "fake.pdf"))
    assert r.status_code == 200
    assert _count(app) == before


def test_api_edit_window_own_logs_and_drafts(app, world):
    from plugins.agencies.models import WorkLog

    c = app.test_client()
    mine, colleague = token_headers(app, "agency01"), token_headers(app, "finance")
    base = {"engagement_id": world.engagement_ids[0], "staff_id": world.staff_ids[0][1],
            "activity": "report_writing"}
    draft = c.post("/api/v1/work-logs", headers=mine,
                   json={**base, "work_date": "2026-07-01", "hours": "3"}).get_json()
    sent = c.post("/api/v1/work-logs", headers=mine,
                  json={**base, "work_date": "2026-07-02", "hours": "3", "submit": True})
    assert sent.status_code == 201 and sent.get_json()["submitted"] is True
    assert c.get(f"/api/v1/work-logs/{draft['id']}", headers=mine).get_json()["hours"] == "3.00"
    # finance may read, not write
    assert c.delete(f"/api/v1/work-logs/{draft['id']}", headers=colleague).status_code == 403
    # a submitted log cannot be deleted, a draft can
    assert c.delete(f"/api/v1/work-logs/{sent.get_json()['id']}", headers=mine).status_code == 403
    assert c.delete(f"/api/v1/work-logs/{draft['id']}", headers=mine).status_code == 204
    assert c.get(f"/api/v1/work-logs/{draft['id']}", headers=mine).status_code == 404
    # the fixture's log was written by nobody through the API: not the caller's own
    r = c.patch(f"/api/v1/work-logs/{world.log_ids[0]}", headers=mine, json={"hours": "1"})
    assert r.status_code == 403
    # past the edit window
    log_id = sent.get_json()["id"]
    with app.app_context():
        log = db.session.get(WorkLog, log_id)
        log.created_at = utcnow() - timedelta(days=8)
        db.session.commit()
    r = c.patch(f"/api/v1/work-logs/{log_id}", headers=mine, json={"notes": "late"})
    assert r.status_code == 403 and r.get_json()["details"] == {"reason": "edit_window"}


def test_portal_draft_delete_and_submit(app, login, world):
    from plugins.agencies.models import WorkLog

    c = login("agency01")
    _post(c, world.engagement_ids[0], work_date="2026-08-03",
          staff_id=str(world.staff_ids[0][0]), hours="2", notes="draft-to-delete")
    with app.app_context():
        log_id = db.session.scalar(select(WorkLog.id).where(WorkLog.notes == "draft-to-delete"))
    page = c.get(f"/portal/engagements/{world.engagement_ids[0]}")
    r = c.post(f"/portal/logs/{log_id}/delete", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(WorkLog, log_id) is None
    # without the CSRF token nothing happens
    r = c.post(f"/portal/logs/{world.log_ids[0]}/delete", data={})
    assert r.status_code == 400
