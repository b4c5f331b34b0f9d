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
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, State, User
from tests.support import csrf_from, do_login

#: who reviews each level: the department of unit0101, the bureau
REVIEWERS = {"dept_admin": "dept01", "finance_admin": "finance"}
ROLES = ("unit0101", "unit0102", "dept01", "finance", "viewer", "agency01")


@dataclass(frozen=True)
class Kind:
    """One workflow-backed record type and how its pages work."""

    name: str
    model: str  # "module:Class"
    endpoint: str
    page: str  # the record's page under the view's URL
    chain: tuple[str, ...]
    #: who owns the record (its org is the first one's)
    owners: tuple[str, ...] = ("unit0101",)
    #: substrings of the page that only an editor may see
    edit_marks: tuple[str, ...] = ("/edit/?id=",)
    #: extra conditions on the demo record chosen: cls -> criteria
    where: Callable[[type], tuple] = lambda cls: ()
    #: an edit POST: (path under the view, form fields)
    edit_post: tuple[str, dict] | None = None
    #: where the workflow actions are POSTed, under the view
    workflow: str = "workflow/"
    #: columns set back after each action (side effects of approval)
    resets: tuple[str, ...] = ()
    #: makes the chosen record complete enough to submit and approve
    prepare: Callable[[object], None] | None = None
    #: False: nobody edits it in a form (a quote is redone on the quote page)
    form_edit: bool = True
    #: the endpoint of the record's Flask-Admin view (its edit form), if not ``endpoint``
    admin: str | None = None
    #: the page's and the POSTs' arguments naming the record
    args: Callable[[object], dict] = lambda row: {"id": row.id}
    #: the action buttons of this record on its page (a pattern with the record's ``{id}``)
    buttons: str = r'name="action" value="(submit|approve|return)"'
    #: the user whose org the record is of (default: the first owner)
    org_of: str | None = None
    #: builds a record of the org (id) when the demo data has none
    make: Callable[[int], object] | None = None

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
    Kind("self_evaluation", "plugins.evaluation.models:SelfEvaluation", "selfevaluation",
         "score/", ("dept_admin",), edit_marks=("/edit/?id=", 'name="spent"'),
         edit_post=("actuals/", {"spent": "1.00"}),
         where=lambda cls: (cls.finalized_at.is_(None),), prepare=lambda ev: _complete(ev),
         resets=("finalized_at",)),
    Kind("preassessment", "plugins.preassessment.models:Preassessment", "preassessment",
         "assessment/", ("finance_admin",), owners=("unit0101", "dept01"),
         edit_marks=("/edit/?id=", 'name="summary"', "/evidence/"),
         edit_post=("save-self/", {"action": "save", "summary": "矩阵测试"}),
         where=lambda cls: (cls.final_at.is_(None), cls.exempt_kind.is_(None)),
         make=lambda org: _preassessment(org)),
    Kind("catalogue", "plugins.catalogue.models:Catalogue", "catalogue", "catalogue/",
         ("finance_admin",), owners=("dept01",), edit_marks=("/propose/",),
         edit_post=("propose/", {})),
    Kind("publication", "plugins.disclosure.models:Publication", "publication", "review/",
         ("finance_admin",), owners=("unit0101", "dept01"), edit_marks=()),
    Kind("engagement", "plugins.agencies.models:Engagement", "engagement", "review/",
         ("finance_admin",), owners=("dept01",), where=lambda cls: (cls.closed_at.is_(None),)),
    Kind("fee_quote", "plugins.agency_fees.models:FeeQuote", "fee_quote", "sheet/",
         ("finance_admin",), owners=("dept01",), edit_marks=(), form_edit=False,
         where=lambda cls: (cls.needs_approval.is_(True),)),
    Kind("corrective_decision", "plugins.monitoring.models:CorrectiveDecision",
         "monitoringrecord", "record/", ("finance_admin",), owners=("finance",),
         org_of="unit0101", edit_marks=(), workflow="decide/", admin="correctivedecision",
         make=lambda org: _decision(org),
         args=lambda row: {"id": row.record_id, "decision_id": row.id},
         buttons=r'name="decision_id" value="{id}">.{{0,80}}?<button name="action" '
                 r'value="(submit|approve|return)"'),
    Kind("rectification", "plugins.evaluation.models:Rectification", "rectification",
         "follow-up/", ("finance_admin",), owners=("dept01",), org_of="unit0101", edit_marks=(),
         workflow="follow-up/", make=lambda org: _rectification(org)),
]


def _complete(ev) -> None:
    """Every target met: a self-evaluation the department can approve."""
    ev.spent = ev.spent if ev.spent is not None else Decimal("1000.00")
    for line in ev.lines:
        if line.comparator == "qualitative":
            line.grade = line.grade or "achieved"
        else:
            line.actual = line.actual or line.target_value


def _preassessment(org: int):
    """A draft pre-assessment of an item of ``org`` that has none."""
    from plugins.preassessment.models import Preassessment
    from plugins.preassessment.rules import rules_for_year

    taken = select(Preassessment.budget_item_id)
    item = db.session.scalar(select(BudgetItem).where(
        BudgetItem.org_unit_id == org, BudgetItem.id.not_in(taken)).order_by(BudgetItem.id))
    return Preassessment(budget_item=item, fiscal_year_id=item.fiscal_year_id, org_unit_id=org,
                         rules_code=rules_for_year(item.fiscal_year.year).code, answers={})


def _decision(org: int):
    """A bureau's decision (to stop the item) on a monitoring record of ``org``."""
    from plugins.monitoring.models import CorrectiveDecision, DecisionAction, MonitoringRecord

    record = db.session.scalar(select(MonitoringRecord).where(
        MonitoringRecord.org_unit_id == org).order_by(MonitoringRecord.id))
    return CorrectiveDecision(record=record, budget_item_id=record.budget_item_id,
                              org_unit_id=org, action=DecisionAction.STOP_PROJECT,
                              reason="矩阵测试：项目停止实施")


def _rectification(org: int):
    from plugins.evaluation.models import Rectification, ResultSuggestion

    suggestion = ResultSuggestion(
        org_unit_id=org, evaluation_kind="matrix", evaluation_id=org, fiscal_year=2025,
        title="矩阵测试评价", score=65, grade="fair", suggested="rectify")
    return Rectification(suggestion=suggestion, org_unit_id=org, problem="矩阵测试整改",
                         owner="张三", due_on=date(2099, 1, 1), evidence="整改报告")


def expected(kind: Kind, username: str, state: State, level: int) -> set[str]:
    """What ``username`` may do: the rule, stated independently of the code."""
    out = set()
    if username in kind.owners and state in (State.DRAFT, State.RETURNED):
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
            User.username == (kind.org_of or kind.owners[0])))
        stmt = select(cls.id).where(cls.org_unit_id == org, *kind.where(cls)) \
            .order_by(cls.id).limit(1)
        found = db.session.scalar(stmt)
        if found is None and kind.make is not None:
            row = kind.make(org)
            db.session.add(row)
            db.session.commit()
            found = row.id
        assert found is not None, f"no demo {kind.name} of {kind.owners[0]}"
        if kind.prepare is not None:
            kind.prepare(db.session.get(cls, found))
            db.session.commit()
        return found


def _put(app, kind: Kind, rid: int, state: State, level: int, kept: tuple = ()) -> None:
    """Put the record in ``state`` at ``level``; the ``resets`` columns to ``kept`` (or None)."""
    with app.app_context():
        row = db.session.get(kind.cls(), rid)
        row.state, row.review_level = state, level
        for column, value in zip(kind.resets, kept or [None] * len(kind.resets), strict=True):
            setattr(row, column, value)
        db.session.commit()


def _get(app, kind: Kind, rid: int):
    with app.app_context():
        row = db.session.get(kind.cls(), rid)
        return row.state, row.review_level, getattr(row, "version", None)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_owners_edit_reviewers_review(app, clients, kind):
    rid = _record_id(app, kind)
    original = _get(app, kind, rid)[:2]
    with app.app_context():
        row = db.session.get(kind.cls(), rid)
        kept = tuple(getattr(row, column) for column in kind.resets)
        args = kind.args(row)
    base = f"/admin/{kind.endpoint}/"
    problems: list[str] = []
    try:
        for label, state, level in kind.states():
            _put(app, kind, rid, state, level)
            for username in ROLES:
                where = f"{kind.name} {label} as {username}"
                want = expected(kind, username, state, level)
                client = clients[username]
                page = client.get(base + kind.page, query_string=args)
                html = page.get_data(as_text=True) if page.status_code == 200 else ""
                shown = set(re.findall(kind.buttons.format(id=rid), html))
                if any(mark in html for mark in kind.edit_marks):
                    shown.add("edit")
                if not kind.edit_marks:  # the page has no edit controls
                    shown |= want & {"edit"}
                if shown != want:
                    problems.append(f"{where}: page shows {sorted(shown)}, rule {sorted(want)}")
                token = csrf_from(html) if html else _token(client)
                for action in ("submit", "approve", "return"):
                    client.post(base + kind.workflow, data={
                        **args, "action": action, "comment": "请修改", "csrf_token": token})
                    moved = _get(app, kind, rid)[:2] != (state, level)
                    if moved:
                        _put(app, kind, rid, state, level)
                    if moved and action not in want:
                        problems.append(f"{where}: POST {action} accepted against the rule")
                    if not moved and action in want - {"submit"}:
                        problems.append(f"{where}: POST {action} refused against the rule")
                before = _get(app, kind, rid)
                view = f"/admin/{kind.admin or kind.endpoint}/"
                listed = client.get(view)  # the list's edit and delete icons are per row
                if listed.status_code not in (200, 403):
                    problems.append(f"{where}: the list answers {listed.status_code}")
                details = client.get(f"{view}details/?id={rid}").get_data(as_text=True)
                if (f"edit/?id={rid}" in details) != ("edit" in want and kind.form_edit):
                    problems.append(f"{where}: the details page's edit link disagrees with "
                                    "the rule")
                edit = client.get(f"{view}edit/?id={rid}")
                form_shown = edit.status_code == 200 and "<form" in edit.get_data(as_text=True)
                if form_shown and "edit" not in want:
                    problems.append(f"{where}: the edit form opens against the rule")
                if kind.edit_post is not None:
                    path, data = kind.edit_post
                    client.post(base + path, data={**args, "csrf_token": token, **data})
                    if _get(app, kind, rid) != before and "edit" not in want:
                        problems.append(f"{where}: POST {path} changed the record against "
                                        "the rule")
    finally:
        _put(app, kind, rid, *original, kept)
    assert not problems, "\n".join(problems)


def _token(client) -> str:
    """A CSRF token of the session, for a user who cannot open the record's page."""
    return csrf_from(client.get("/admin/").get_data(as_text=True))
