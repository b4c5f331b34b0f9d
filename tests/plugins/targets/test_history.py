"""The review history on a target sheet names who acted, next to the action, time and comment."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from core.extensions import db
from core.models import User
from tests.plugins.targets.test_targets import _api_post, _indicators
from tests.support import csrf_from


def _history_lines(page_html: str) -> list[str]:
    block = re.search(r'<ul class="jixiao-history[^"]*">(.*?)</ul>', page_html, re.S)
    assert block, "no history on the page"
    return [re.sub(r"<[^>]+>", "", html.unescape(li))
            for li in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


def test_history_shows_who_submitted_and_who_returned(app, login, draft_items):
    unit, dept = login("unit0101"), login("dept01")
    r = _api_post(unit, {"budget_item_id": draft_items[2][0], "goal": "目标", "submit": True,
                         "indicators": _indicators()})
    assert r.status_code == 200, r.get_json()
    sheet_id = r.get_json()["id"]
    page = dept.get(f"/admin/targetsheet/sheet/?id={sheet_id}")
    dept.post("/admin/targetsheet/workflow/", data={
        "csrf_token": csrf_from(page.text), "id": sheet_id, "action": "return",
        "comment": "请补充满意度调查方法"})
    with app.app_context():
        names = {u.username: u.full_name for u in db.session.scalars(
            select(User).where(User.username.in_(["unit0101", "dept01"])))}

    lines = _history_lines(unit.get(f"/admin/targetsheet/sheet/?id={sheet_id}").text)

    assert len(lines) == 2, lines
    submitted, returned = lines
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d · ", submitted)
    assert f"· {names['unit0101']} · 提交" in submitted
    assert f"· {names['dept01']} · 退回修改" in returned
    assert "请补充满意度调查方法" in returned
