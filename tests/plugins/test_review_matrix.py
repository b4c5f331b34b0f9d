"""Owners edit, reviewers review: every role × every state × every workflow-backed record.

For each record type a record of a known owner is put in each state (draft, submitted
at each level of its chain, returned, approved); each role then opens the record's page
and POSTs every workflow action and an edit. The rule, written out here independently
of the code (docs/architecture.md, "Owners edit, reviewers review"):

- the owner sees and may use submit and the edit controls, in draft or returned only;
- the reviewer of the current level sees and may use approve and return, never an edit;
- everyone else gets none of them, and a refused POST changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import State, User
from tests.support import csrf_from, do_login

ACTION = re.compile(r'name="action" value="(submit|approve|return)"')
#: who reviews each level: the department of unit0101, the bureau
REVIEWERS = {"dept_admin": "dept01", "finance_admin": "finance"}
ROLES = ("unit0101", "unit0102", "dept01", "finance", "viewer")


@dataclass(frozen=True)
class Kind:
    """One workflow-backed record type and how its pages work."""

    name: str
    model: str  # "module:Class"
    endpoint: str
    page: str  # the record's page under the view's URL
    chain: tuple[str, ...]
    owner: str = "unit0101"
    #: substrings of the page that only an editor may see
    edit_marks: tuple[str, ...] = ("/edit/?id=",)
    #: extra conditions on the demo record chosen: cls -> criteria
    where: Callable[[type], tuple] = lambda cls: ()
    #: an edit POST: (path under the view, form fields)
    edit_post: tuple[str, dict] | None = None
    #: the org whose record it is (default: the owner's)
    org_of: str | None = None

    def cls(self):
        module, name = self.model.split(":")
        return getattr(__import__(module, fromlist=[name]), name)

    def states(self):
        yield "draft", State.DRAFT, 0
        for level in range(len(self.chain)):
            yield f"submitted{level}", State.SUBMITTED, level
        yield "returned", State.RETURNED, 0
        yield "approved", State.APPROVED, len(self.chain)


KINDS = [
    Kind("target_sheet", "plugins.targets.models:TargetSheet", "targetsheet", "sheet/",
         ("dept_admin", "finance_admin"), edit_marks=("/edit/?id=", "add-from-library")),
    Kind("monitoring_record", "plugins.monitoring.models:MonitoringRecord", "monitoringrecord",
         "record/", ("dept_admin",), edit_marks=("/edit/?id=", 'value="save"'),
         edit_post=("save/", {"action": "save", "reason_note": "矩阵测试"}),
         where=lambda cls: (cls.round.has(closed_at=None),)),
]


def expected(kind: Kind, username: str, state: State, level: int) -> set[str]:
    """What ``username`` may do: the rule, stated independently of the code."""
    out = set()
    if username == kind.owner and state in (State.DRAFT, State.RETURNED):
        out |= {"submit", "edit"}
    if state == State.SUBMITTED and REVIEWERS.get(kind.chain[level]) == username:
        out |= {"approve", "return"}
    return out


@pytest.fixture(scope="module")
def clients(app):
    out = {}
    for username in ROLES:
        client = app.test_client()
        assert do_login(client, username).status_code == 302, username
        out[username] = client
    return out


def _record_id(app, kind: Kind) -> int:
    with app.app_context():
        cls = kind.cls()
        org = db.session.scalar(select(User.org_unit_id).where(
            User.username == (kind.org_of or kind.owner)))
        stmt = select(cls.id).where(cls.org_unit_id == org, *kind.where(cls)) \
            .order_by(cls.id).limit(1)
        found = db.session.scalar(stmt)
        assert found is not None, f"no demo {kind.name} of {kind.owner}"
        return found


def _put(app, kind: Kind, rid: int, state: State, level: int) -> None:
    with app.app_context():
        row = db.session.get(kind.cls(), rid)
        row.state, row.review_level = state, level
        db.session.commit()


def _get(app, kind: Kind, rid: int):
    with app.app_context():
        row = db.session.get(kind.cls(), rid)
        return row.state, row.review_level, getattr(row, "version", None)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_owners_edit_reviewers_review(app, clients, kind):
    rid = _record_id(app, kind)
    original = _get(app, kind, rid)[:2]
    base = f"/admin/{kind.endpoint}/"
    problems: list[str] = []
    try:
        for label, state, level in kind.states():
            for username in ROLES:
                where = f"{kind.name} {label} as {username}"
                want = expected(kind, username, state, level)
                client = clients[username]
                _put(app, kind, rid, state, level)
                page = client.get(f"{base}{kind.page}?id={rid}")
                html = page.get_data(as_text=True) if page.status_code == 200 else ""
                shown = set(ACTION.findall(html))
                if any(mark in html for mark in kind.edit_marks):
                    shown.add("edit")
                if shown != want:
                    problems.append(f"{where}: page shows {sorted(shown)}, rule {sorted(want)}")
                token = csrf_from(html) if html else _token(client, kind)
                for action in ("submit", "approve", "return"):
                    _put(app, kind, rid, state, level)
                    client.post(f"{base}workflow/", data={
                        "id": rid, "action": action, "comment": "请修改", "csrf_token": token})
                    moved = _get(app, kind, rid)[:2] != (state, level)
                    if moved and action not in want:
                        problems.append(f"{where}: POST {action} accepted against the rule")
                    if not moved and action in want - {"submit"}:
                        problems.append(f"{where}: POST {action} refused against the rule")
                _put(app, kind, rid, state, level)
                before = _get(app, kind, rid)
                edit = client.get(f"{base}edit/?id={rid}")
                form_shown = edit.status_code == 200 and "<form" in edit.get_data(as_text=True)
                if form_shown and "edit" not in want:
                    problems.append(f"{where}: the edit form opens against the rule")
                if kind.edit_post is not None:
                    path, data = kind.edit_post
                    client.post(base + path, data={"id": rid, "csrf_token": token, **data})
                    if _get(app, kind, rid) != before and "edit" not in want:
                        problems.append(f"{where}: POST {path} changed the record against "
                                        "the rule")
    finally:
        _put(app, kind, rid, *original)
    assert not problems, "\n".join(problems)


def _token(client, kind: Kind) -> str:
    return csrf_from(client.get("/admin/").get_data(as_text=True))
