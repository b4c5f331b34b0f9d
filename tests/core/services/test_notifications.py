"""Notifications: each user sees and marks only their own."""

from __future__ import annotations

import secrets

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from core.extensions import db
from core.models import Notification, User
from core.services.notifications import NotificationError, notify, notify_all, unread_count
from tests.support import csrf_from


def _uid(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


@pytest.fixture
def notes(app):
    """One fresh notification each for dept01, dept02 and finance: {username: (id, title)}."""
    tag = secrets.token_hex(3)
    out = {}
    with app.app_context():
        for username in ("dept01", "dept02", "finance"):
            note = notify(_uid(username), f"目标表被退回 {username} {tag}",
                          body="请补充产出指标。", link="/admin/budgetitem/")
            db.session.flush()
            out[username] = (note.id, note.title)
        db.session.commit()
    return out


@pytest.mark.parametrize("username", ["dept01", "finance"])
def test_a_user_sees_only_their_own_notifications(login, notes, username):
    c = login(username)
    page = c.get("/admin/notification/")
    assert page.status_code == 200
    for owner, (note_id, title) in notes.items():
        assert (title in page.text) == (owner == username), owner
        details = c.get(f"/admin/notification/details/?id={note_id}", follow_redirects=True)
        assert (title in details.text) == (owner == username), owner
    assert 'href="/admin/budgetitem/"' in page.text


@pytest.mark.parametrize("username", ["unit0101", "expert01", "agency01", "viewer"])
def test_every_role_has_the_page(login, username):
    assert login(username).get("/admin/notification/").status_code == 200


def test_nobody_creates_or_edits_notifications_in_the_admin(login, notes):
    c = login("finance")
    note_id = notes["finance"][0]
    assert c.get("/admin/notification/new/").status_code in (302, 403)
    assert c.get(f"/admin/notification/edit/?id={note_id}").status_code in (302, 403)


def test_mark_as_read_touches_only_the_users_own(app, login, notes):
    c = login("dept01")
    token = csrf_from(c.get("/admin/notification/").text)
    own, other = notes["dept01"][0], notes["dept02"][0]
    response = c.post("/admin/notification/action/",
                      data={"action": "mark_read", "rowid": [str(own), str(other)],
                            "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Notification, own).read_at is not None
        assert db.session.get(Notification, other).read_at is None
    unread = c.get("/admin/notification/?flt0_0=unread")
    assert notes["dept01"][1] not in unread.text


def test_mark_as_read_needs_the_csrf_token(app, login, notes):
    own = notes["dept01"][0]
    response = login("dept01").post("/admin/notification/action/",
                                    data={"action": "mark_read", "rowid": [str(own)]})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Notification, own).read_at is None


def test_notify_queues_in_the_callers_transaction(app):
    with app.app_context():
        uid = _uid("unit0101")
        before = unread_count(uid)
        notify(uid, "不会发送")
        db.session.rollback()
        assert unread_count(uid) == before
        notes = notify_all([uid, uid, _uid("unit0102")], "  监控表\n即将到期 ", link="/admin/")
        db.session.commit()
        assert len(notes) == 2
        assert notes[0].title == "监控表 即将到期"
        assert unread_count(uid) == before + 1


@pytest.mark.parametrize(("title", "link", "message"), [
    ("", None, "Title: a notification needs a title."),
    ("   ", None, "Title: a notification needs a title."),
    ("ok", "https://evil.example/phish", "Link: must be a path inside this site, such as /admin/."),
    ("ok", "//evil.example/", "Link: must be a path inside this site, such as /admin/."),
    ("ok", "javascript:alert(1)", "Link: must be a path inside this site, such as /admin/."),
])
def test_a_bad_notification_is_refused(app, title, link, message):
    with app.app_context():
        with pytest.raises(NotificationError) as exc:
            notify(_uid("dept01"), title, link=link)
        with force_locale("en"):
            assert str(exc.value) == message
        assert not db.session.new


def test_a_long_title_is_shortened(app):
    with app.app_context():
        note = notify(_uid("dept01"), "长" * 300)
        assert len(note.title) == 200 and note.title.endswith("…")
        db.session.rollback()
