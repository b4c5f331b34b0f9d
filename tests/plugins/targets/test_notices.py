"""The workflow tells the people it concerns (issue 21), shown with a target sheet: the
department when a unit submits, the unit when the department returns (with the comment),
finance when the department approves, the unit when finance approves; the navigation
badge counts them; "mark all as read" clears it; e-mail to those who chose it, through a
real local SMTP server, and a mail server that is down loses nothing."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from core.extensions import db
from core.models import Notification, User
from tests.plugins.targets.test_targets import _api_post, _indicators
from tests.support import csrf_from, do_login


def _notes(app, username: str) -> list[Notification]:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        return list(db.session.scalars(select(Notification).where(
            Notification.user_id == user_id).order_by(Notification.id)))


def _act(client, sheet_id: int, action: str, comment: str = ""):
    page = client.get(f"/admin/targetsheet/sheet/?id={sheet_id}")
    return client.post("/admin/targetsheet/workflow/", data={
        "csrf_token": csrf_from(page.text), "id": sheet_id, "action": action,
        "comment": comment})


def _submit(client, item_id: int) -> int:
    r = _api_post(client, {"budget_item_id": item_id, "goal": "目标", "submit": True,
                           "indicators": _indicators()})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["id"]


def _read_all(app, *usernames: str) -> None:
    with app.app_context():
        ids = select(User.id).where(User.username.in_(usernames))
        db.session.execute(update(Notification).where(Notification.user_id.in_(ids))
                           .values(read_at=db.func.now()))
        db.session.commit()


def test_each_step_tells_the_next_person(app, login, draft_items):
    _read_all(app, "unit0101", "dept01", "finance")
    unit, dept, finance = login("unit0101"), login("dept01"), login("finance")
    before = {u: len(_notes(app, u)) for u in ("unit0101", "dept01", "finance")}

    sheet_id = _submit(unit, draft_items[0][0])
    new = _notes(app, "dept01")[before["dept01"]:]
    assert [n.title for n in new] == [f"绩效目标《{draft_items[0][1]} 测试项目0》 待您审核"] \
        or (len(new) == 1 and "待您审核" in new[0].title), [n.title for n in new]
    assert new[0].link and str(sheet_id) in new[0].link
    assert len(_notes(app, "unit0101")) == before["unit0101"]  # not told of its own act
    assert len(_notes(app, "finance")) == before["finance"]  # not finance's turn yet
    assert dept.get("/workbench/counts").get_json()["unread"] == 1  # the badge's number

    _act(dept, sheet_id, "return", "请补充满意度调查方法")
    back = _notes(app, "unit0101")[before["unit0101"]:]
    assert len(back) == 1 and "已被退回" in back[0].title
    assert "请补充满意度调查方法" in back[0].body

    _act(unit, sheet_id, "submit")
    _act(dept, sheet_id, "approve")
    to_finance = _notes(app, "finance")[before["finance"]:]
    assert len(to_finance) == 1 and "待您审核" in to_finance[0].title

    _act(finance, sheet_id, "approve")
    done = _notes(app, "unit0101")[before["unit0101"]:]
    assert "已审核通过" in done[-1].title
    # every transition told exactly the people it concerns: one note for each of these
    assert len(_notes(app, "dept01")) == before["dept01"] + 2  # two submits

    page = unit.get("/admin/notification/")
    unit.post("/admin/notification/read-all/", data={"csrf_token": csrf_from(page.text)})
    assert all(n.read_at is not None for n in _notes(app, "unit0101"))
    assert unit.get("/workbench/counts").get_json()["unread"] == 0


class _Inbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _choose_email(client, address: str) -> None:
    page = client.get("/admin/notification/settings/")
    r = client.post("/admin/notification/settings/", data={
        "csrf_token": csrf_from(page.text), "channel": "email", "email": address})
    assert r.status_code == 302, r.text


def test_those_who_chose_email_get_a_mail(make_app, app, draft_items, smtp):
    port, inbox = smtp
    # MAIL_SUPPRESS_SEND: Flask-Mail sends nothing in testing mode unless told to
    mailing = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    unit, dept = mailing.test_client(), mailing.test_client()
    do_login(unit, "unit0101")
    do_login(dept, "dept01")
    page = dept.get("/admin/notification/settings/")
    refused = dept.post("/admin/notification/settings/", data={
        "csrf_token": csrf_from(page.text), "channel": "email", "email": ""})
    assert "请填写接收邮件的电子邮箱" in refused.text  # the choice needs an address
    _choose_email(dept, "dept01@example.gov.cn")
    try:
        _submit(unit, draft_items[1][0])
        assert len(inbox.messages) == 1
        assert inbox.messages[0].rcpt_tos == ["dept01@example.gov.cn"]
        assert "待您审核".encode() in inbox.messages[0].content or \
            b"=?utf-8?" in inbox.messages[0].content
    finally:
        with app.app_context():
            db.session.execute(update(User).where(User.username == "dept01")
                               .values(notify_by_email=False))
            db.session.commit()


def test_a_mail_server_that_is_down_loses_nothing(make_app, app, draft_items):
    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port(), MAIL_SUPPRESS_SEND=False)
    unit, dept = down.test_client(), down.test_client()
    do_login(unit, "unit0101")
    do_login(dept, "dept01")
    _choose_email(dept, "dept01@example.gov.cn")
    before = len(_notes(app, "dept01"))
    try:
        sheet_id = _submit(unit, draft_items[2][0])
        assert len(_notes(app, "dept01")) == before + 1  # the in-app notification is there
        assert "已提交" in unit.get(f"/admin/targetsheet/sheet/?id={sheet_id}").text or \
            "待部门审核" in unit.get(f"/admin/targetsheet/sheet/?id={sheet_id}").text
    finally:
        with app.app_context():
            db.session.execute(update(User).where(User.username == "dept01")
                               .values(notify_by_email=False))
            db.session.commit()
