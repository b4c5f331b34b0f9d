"""The catalogue's review history: time, who acted and what, as on every reviewable record."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.extensions import db
from core.models import User
from tests.plugins.catalogue.test_catalogue import create_catalogue, post
from tests.plugins.targets.test_history import _history_lines


def test_history_names_the_department_and_the_finance_reviewer(app, login, world):
    dept = login(world.user)
    cid = create_catalogue(dept, world)
    post(dept, "/admin/catalogue/workflow/", cid, action="submit")
    post(login("finance"), "/admin/catalogue/workflow/", cid, action="approve",
         comment="同意列入")
    with app.app_context():
        finance = db.session.scalar(select(User.full_name).where(User.username == "finance"))

    lines = _history_lines(dept.get(f"/admin/catalogue/catalogue/?id={cid}").text)

    assert len(lines) == 2, lines
    assert re.match(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d · 测试用户{world.user} · 提交$", lines[0])
    assert re.match(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d · {finance} · 审核通过: 同意列入$", lines[1])
