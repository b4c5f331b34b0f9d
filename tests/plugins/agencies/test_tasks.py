"""待办 of the agencies stage: engagements to approve (finance's queue), to submit or fix and
to close (the commissioning department), work logs missing and deliverables due (agencies);
and the agency user's landing on the portal."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_login import login_user
from sqlalchemy import func, select

from core.extensions import db
from core.models import Attachment, State
from core.plugins import hooks
from core.scope import current_principal
from tests.support import do_login, make_engagement, user

TODAY = date.today()


def tasks_of(app, username: str, year: int = TODAY.year) -> list:
    with app.test_request_context():
        login_user(user(username))
        # titles read in the request's language (Chinese by default)
        return [replace(t, title=str(t.title))
                for t in hooks().tasks(principal=current_principal(), year=year)
                if t.stage == "agencies"]


def _new(app, world, n, state=State.DRAFT, org_code="D01", agency=0, start=None, end=None):
    with app.app_context():
        eng = make_engagement(world.agency_ids[agency], world.staff_ids[agency][:2],
                              world.item_ids[agency:agency + 1], state=state, tag=world.tag,
                              n=n, org_code=org_code)
        eng.start_on = start or TODAY - timedelta(days=30)
        eng.end_on = end or TODAY + timedelta(days=90)
        db.session.commit()
        return eng.id, eng.code


def _set(app, eng_id, **values):
    from plugins.agencies.models import Engagement

    with app.app_context():
        eng = db.session.get(Engagement, eng_id)
        for key, value in values.items():
            setattr(eng, key, value)
        db.session.commit()


def _titles(tasks) -> list[str]:
    return [str(t.title) for t in tasks]


def test_finance_has_one_queue_of_engagements_to_approve(app, world, login):
    from plugins.agencies.models import Engagement

    eng_id, code = _new(app, world, 11, state=State.SUBMITTED)
    with app.app_context():
        waiting = db.session.scalar(select(func.count(Engagement.id)).where(
            Engagement.state == State.SUBMITTED, Engagement.closed_at.is_(None),
            Engagement.start_on <= date(TODAY.year, 12, 31),
            Engagement.end_on >= date(TODAY.year, 1, 1)))
    queue = [t for t in tasks_of(app, "finance") if "审批" in str(t.title)]
    assert len(queue) == 1 and queue[0].count == waiting, _titles(tasks_of(app, "finance"))
    page = login("finance").get(queue[0].link)
    assert page.status_code == 200
    assert code in page.text
    approved = world.engagement_ids[0]
    with app.app_context():
        assert db.session.get(Engagement, approved).code not in page.text
    # the department submitted it: nothing for it to do until finance decides
    assert not any(code in title for title in _titles(tasks_of(app, "dept01")))
    _set(app, eng_id, state=State.APPROVED, review_level=1)
    after = [t for t in tasks_of(app, "finance") if "审批" in str(t.title)]
    assert sum(t.count for t in after) == waiting - 1


def test_the_department_submits_fixes_and_closes_its_engagements(app, world):
    draft_id, draft = _new(app, world, 12)
    returned_id, returned = _new(app, world, 13, state=State.RETURNED)
    ended_id, ended = _new(app, world, 14, state=State.APPROVED,
                           start=TODAY - timedelta(days=60), end=TODAY - timedelta(days=2))
    mine = {t.title and str(t.title): t for t in tasks_of(app, "dept01")}
    by_code = {code: [t for title, t in mine.items() if code in title]
               for code in (draft, returned, ended)}
    assert all(len(found) == 1 for found in by_code.values()), list(mine)
    assert by_code[draft][0].link == f"/admin/engagement/review/?id={draft_id}"
    assert "提交" in str(by_code[draft][0].title)
    assert "退回" in str(by_code[returned][0].title) or "修改" in str(by_code[returned][0].title)
    close = by_code[ended][0]
    assert close.due == TODAY - timedelta(days=2) and close.overdue
    assert close.link == f"/admin/engagement/review/?id={ended_id}"
    # another department and another year see none of them
    for title in _titles(tasks_of(app, "dept02")) + _titles(tasks_of(app, "dept01",
                                                                      TODAY.year - 3)):
        assert not any(code in title for code in (draft, returned, ended))
    # done: submitted, closed
    _set(app, draft_id, state=State.SUBMITTED)
    _set(app, ended_id, closed_at=datetime.now())
    left = _titles(tasks_of(app, "dept01"))
    assert not any(draft in t or ended in t for t in left)
    assert any(returned in t for t in left)


def test_finance_counts_engagements_to_close(app, world):
    before = sum(t.count for t in tasks_of(app, "finance") if t.due is not None)
    _new(app, world, 15, state=State.APPROVED, start=TODAY - timedelta(days=60),
         end=TODAY - timedelta(days=1))
    queue = [t for t in tasks_of(app, "finance") if t.due is not None]
    assert len(queue) == 1 and queue[0].count == before + 1
    assert queue[0].overdue


def test_an_agency_is_told_of_missing_work_logs_and_deliverables(app, world):
    from plugins.agencies.models import WorkLog

    eng_id, code = _new(app, world, 16, state=State.APPROVED,
                        start=TODAY - timedelta(days=40), end=TODAY + timedelta(days=10))
    with app.app_context():
        db.session.add(WorkLog(engagement_id=eng_id, agency_id=world.agency_ids[0],
                               org_unit_id=user("dept01").org_unit_id,
                               staff_id=world.staff_ids[0][0],
                               work_date=TODAY - timedelta(days=9), hours=Decimal("4.00"),
                               activity="desk_review"))
        db.session.commit()
    found = [t for t in tasks_of(app, "agency01") if code in str(t.title)]
    assert len(found) == 2, _titles(tasks_of(app, "agency01"))
    logs = next(t for t in found if "7" in str(t.title))
    upload = next(t for t in found if t is not logs)
    assert logs.link == upload.link == f"/portal/engagements/{eng_id}"
    assert logs.since.date() == TODAY - timedelta(days=9)
    assert upload.due == TODAY + timedelta(days=10) and not upload.overdue
    # another agency is told nothing about it
    assert not any(code in t for t in _titles(tasks_of(app, "agency02")))
    with app.app_context():
        db.session.add(WorkLog(engagement_id=eng_id, agency_id=world.agency_ids[0],
                               org_unit_id=user("dept01").org_unit_id,
                               staff_id=world.staff_ids[0][0], work_date=TODAY,
                               hours=Decimal("2.00"), activity="desk_review"))
        db.session.add(Attachment(object_type="engagement_deliverable", object_id=eng_id,
                                  filename="报告.pdf", stored_name="x" * 32, size=1,
                                  sha256="0" * 64, org_unit_id=user("dept01").org_unit_id))
        db.session.commit()
    assert not any(code in t for t in _titles(tasks_of(app, "agency01")))


def test_an_agency_user_lands_on_the_portal(app, client):
    response = do_login(client, "agency01")
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"
    landed = client.get(response.headers["Location"], follow_redirects=True)
    assert landed.status_code == 200
    assert landed.request.path == "/portal/"
    menu = client.get("/admin/agency_assessment/").text
    assert 'href="/portal/"' in menu
    # the admin pages they may use stay open to them
    assert client.get("/admin/").status_code == 200


def test_finance_stays_in_the_admin_without_a_portal_link(app, client):
    response = do_login(client, "finance")
    assert response.headers["Location"] == "/admin/"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert 'href="/portal/"' not in page.text
