"""The review state machine: unit → department → finance, returns, reopen, illegal moves.

A small test-only reviewable model lives on its own metadata (so the schema
drift check never sees it); its table is created for this module and dropped after.
"""

from __future__ import annotations

import threading
import time

import pytest
from flask_babel import force_locale
from sqlalchemy import MetaData, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.audit import actor_var
from core.extensions import db
from core.models import AuditLog, State, User, WorkflowEvent, WorkflowMixin
from core.plugins import hookimpl, hooks
from core.services.audit_check import verify
from core.workflow import Workflow, WorkflowError


class _TestBase(DeclarativeBase):
    metadata = MetaData()


class ReviewDoc(WorkflowMixin, _TestBase):
    __tablename__ = "test_review_doc"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100), default="")
    org_unit_id: Mapped[int | None] = mapped_column()


FLOW = Workflow("test_review", chain=("dept_admin", "finance_admin"))


@pytest.fixture(scope="module")
def wf_app(app):
    with app.app_context():
        ReviewDoc.__table__.create(db.engine, checkfirst=True)
    yield app
    with app.app_context():
        db.session.remove()
        ReviewDoc.__table__.drop(db.engine)


@pytest.fixture
def ctx(wf_app):
    with wf_app.app_context():
        yield wf_app
        db.session.rollback()


class Recorder:
    """A throwaway plugin that records every transition (or vetoes them)."""

    def __init__(self, veto: str | None = None):
        self.calls: list[tuple] = []
        self.veto = veto

    @hookimpl
    def jixiao_workflow_transition(self, obj, old, new, user, action, comment):
        self.calls.append((obj.id, old, new, user.username, action, comment))
        if self.veto:
            raise WorkflowError(self.veto)


@pytest.fixture
def recorder(wf_app):
    pm = hooks(wf_app)
    plugin = Recorder()
    pm.register(plugin, name="test-workflow-recorder")
    yield plugin
    pm.unregister(plugin)


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _doc(**values) -> ReviewDoc:
    """A record of unit0101's unit."""
    doc = ReviewDoc(title="绩效目标表", org_unit_id=_user("unit0101").org_unit_id, **values)
    db.session.add(doc)
    db.session.commit()
    return doc


def _counts(doc: ReviewDoc) -> tuple[int, int]:
    events = db.session.scalar(select(func.count()).select_from(WorkflowEvent).where(
        WorkflowEvent.object_type == ReviewDoc.__tablename__, WorkflowEvent.object_id == doc.id))
    audit = db.session.scalar(select(func.max(AuditLog.id)))
    return events, audit


def _stored(doc: ReviewDoc) -> tuple[State, int]:
    db.session.expire(doc)
    return doc.state, doc.review_level


def test_a_record_goes_up_the_chain_back_down_and_up_again(ctx, recorder):
    unit, dept, fin = _user("unit0101"), _user("dept01"), _user("finance")
    doc = _doc()
    assert doc.state == State.DRAFT
    assert FLOW.allowed_actions(doc, unit) == ["submit"]
    assert FLOW.allowed_actions(doc, dept) == []  # the unit's record: the department reviews

    FLOW.transition(doc, "submit", unit)
    db.session.commit()
    assert _stored(doc) == (State.SUBMITTED, 0)
    assert FLOW.allowed_actions(doc, unit) == []
    assert FLOW.allowed_actions(doc, dept) == ["approve", "return"]
    assert FLOW.allowed_actions(doc, fin) == []

    FLOW.transition(doc, "approve", dept, comment="部门同意")
    db.session.commit()
    assert _stored(doc) == (State.SUBMITTED, 1)
    assert FLOW.allowed_actions(doc, dept) == []
    assert FLOW.allowed_actions(doc, fin) == ["approve", "return"]

    FLOW.transition(doc, "return", fin, comment="  指标值偏低，请修改  ")
    db.session.commit()
    assert _stored(doc) == (State.RETURNED, 0)
    assert FLOW.allowed_actions(doc, unit) == ["submit"]

    FLOW.transition(doc, "submit", unit)
    FLOW.transition(doc, "approve", dept)
    FLOW.transition(doc, "approve", fin)
    db.session.commit()
    assert _stored(doc) == (State.APPROVED, 2)
    assert FLOW.allowed_actions(doc, fin) == ["reopen"]
    assert FLOW.allowed_actions(doc, dept) == []

    FLOW.transition(doc, "reopen", fin, comment="预算调整")
    db.session.commit()
    assert _stored(doc) == (State.DRAFT, 0)

    history = FLOW.history(doc)
    assert [(e.action, e.from_state, e.to_state, e.level) for e in history] == [
        ("submit", "draft", "submitted", 0),
        ("approve", "submitted", "submitted", 0),
        ("return", "submitted", "returned", 1),
        ("submit", "returned", "submitted", 0),
        ("approve", "submitted", "submitted", 0),
        ("approve", "submitted", "approved", 1),
        ("reopen", "approved", "draft", 2),
    ]
    assert [e.user_id for e in history] == [unit.id, dept.id, fin.id, unit.id, dept.id,
                                            fin.id, fin.id]
    assert history[2].comment == "指标值偏低，请修改"
    assert all(e.at is not None for e in history)
    assert [e.actor_name for e in history[:3]] == [unit.full_name, dept.full_name, fin.full_name]
    # every transition was broadcast to the plugins, with its comment
    assert [(c[3], c[4], c[1], c[2]) for c in recorder.calls] == [
        ("unit0101", "submit", State.DRAFT, State.SUBMITTED),
        ("dept01", "approve", State.SUBMITTED, State.SUBMITTED),
        ("finance", "return", State.SUBMITTED, State.RETURNED),
        ("unit0101", "submit", State.RETURNED, State.SUBMITTED),
        ("dept01", "approve", State.SUBMITTED, State.SUBMITTED),
        ("finance", "approve", State.SUBMITTED, State.APPROVED),
        ("finance", "reopen", State.APPROVED, State.DRAFT),
    ]
    assert recorder.calls[2][5] == "指标值偏低，请修改"


def test_a_transition_lands_in_the_audit_log(ctx):
    dept = _user("dept01")
    doc = _doc(state=State.SUBMITTED)
    since = db.session.scalar(select(func.max(AuditLog.id)))
    token = actor_var.set((dept.id, dept.username))
    try:
        event = FLOW.transition(doc, "approve", dept, comment="同意")
        db.session.commit()
    finally:
        actor_var.reset(token)
    entries = {e.object_type: e for e in db.session.scalars(
        select(AuditLog).where(AuditLog.id > since))}
    change = entries[ReviewDoc.__tablename__]
    assert change.object_id == str(doc.id) and change.username == "dept01"
    assert change.before == {"review_level": 0} and change.after == {"review_level": 1}
    logged = entries["workflow_event"]
    assert logged.action == "create" and logged.object_id == str(event.id)
    assert logged.after["action"] == "approve" and logged.after["comment"] == "同意"
    assert logged.after["object_id"] == doc.id
    assert verify(db.session).ok


ILLEGAL = [
    # (starting state, level, who, action, comment, English message)
    (State.DRAFT, 0, "dept01", "approve", "", "Cannot Approve a record that is Draft."),
    (State.SUBMITTED, 0, "unit0101", "approve", "",
     "This record is waiting for review by another level."),
    (State.SUBMITTED, 1, "dept01", "approve", "",
     "This record is waiting for review by another level."),
    (State.SUBMITTED, 1, "dept01", "return", "不行",
     "This record is waiting for review by another level."),
    (State.SUBMITTED, 0, "dept01", "return", "   ",
     "A comment is required when returning a record."),
    (State.SUBMITTED, 0, "dept01", "submit", "", "Cannot Submit a record that is Submitted."),
    (State.APPROVED, 2, "dept01", "reopen", "",
     "Only the final reviewer may reopen an approved record."),
    (State.DRAFT, 0, "expert01", "submit", "",
     "Only the record's owner may submit it; reviewers approve it."),
    (State.RETURNED, 0, "dept01", "submit", "",
     "Only the record's owner may submit it; reviewers approve it."),
    (State.DRAFT, 0, "unit0101", "publish", "", "Unknown action publish."),
]


@pytest.mark.parametrize(("state", "level", "who", "action", "comment", "message"), ILLEGAL)
def test_an_illegal_move_is_refused_and_changes_nothing(ctx, recorder, state, level, who,
                                                       action, comment, message):
    doc = _doc(state=state, review_level=level)
    before = _counts(doc)
    with pytest.raises(WorkflowError) as exc, force_locale("en"):
        FLOW.transition(doc, action, _user(who), comment=comment)
    with force_locale("en"):
        assert str(exc.value) == message
    db.session.commit()
    assert _stored(doc) == (state, level)
    assert _counts(doc) == before
    assert recorder.calls == []


def test_messages_are_chinese_by_default(ctx):
    doc = _doc(state=State.SUBMITTED)
    with pytest.raises(WorkflowError, match="退回时必须填写意见"):
        FLOW.transition(doc, "return", _user("dept01"))
    with pytest.raises(WorkflowError, match="未知操作：publish"):
        FLOW.transition(doc, "publish", _user("dept01"))


def test_a_plugin_that_raises_aborts_the_transition(ctx):
    pm = hooks(ctx)
    veto = Recorder(veto="目标表缺少产出指标")
    doc = _doc()
    before = _counts(doc)
    pm.register(veto, name="test-workflow-veto")
    try:
        with pytest.raises(WorkflowError, match="目标表缺少产出指标"):
            FLOW.transition(doc, "submit", _user("unit0101"))
    finally:
        pm.unregister(veto)
    db.session.commit()
    assert len(veto.calls) == 1  # it was asked, and said no
    assert _stored(doc) == (State.DRAFT, 0)
    assert _counts(doc) == before
    # the record is still usable afterwards
    FLOW.transition(doc, "submit", _user("unit0101"))
    db.session.commit()
    assert _stored(doc) == (State.SUBMITTED, 0)


def test_a_new_unsaved_record_counts_as_draft(ctx):
    doc = ReviewDoc(title="新建", org_unit_id=_user("unit0101").org_unit_id)
    db.session.add(doc)
    assert FLOW.allowed_actions(doc, _user("unit0101")) == ["submit"]
    FLOW.transition(doc, "submit", _user("unit0101"))
    db.session.commit()
    assert _stored(doc) == (State.SUBMITTED, 0)


def test_a_stale_copy_cannot_approve_again(wf_app):
    """Two reviewers open the same record; the second to act is told it changed."""
    with wf_app.app_context():
        doc_id = _doc(state=State.SUBMITTED).id
    with wf_app.app_context():
        stale = db.session.get(ReviewDoc, doc_id)
        assert stale.review_level == 0
        with wf_app.app_context():  # another request, on its own session
            FLOW.transition(db.session.get(ReviewDoc, doc_id), "approve", _user("dept01"))
            db.session.commit()
        with pytest.raises(WorkflowError), force_locale("en"):
            FLOW.transition(stale, "approve", _user("dept01"))
        db.session.rollback()
        assert _stored(stale) == (State.SUBMITTED, 1)
        events = [e.action for e in FLOW.history(stale)]
    assert events == ["approve"]


def test_simultaneous_approvals_approve_once(wf_app):
    """On PostgreSQL the row lock makes the second reviewer wait, then refuses them."""
    with wf_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no row locks (it is for development only)")
        doc_id = _doc(state=State.SUBMITTED).id
    outcome: list[object] = []
    loaded = threading.Event()

    def second_reviewer():
        with wf_app.app_context():
            doc = db.session.get(ReviewDoc, doc_id)
            loaded.set()
            time.sleep(0.2)  # let the first reviewer lock the row
            try:
                FLOW.transition(doc, "approve", _user("dept01"))
                db.session.commit()
                outcome.append("approved")
            except WorkflowError as exc:
                db.session.rollback()
                outcome.append(exc)

    with wf_app.app_context():
        doc = db.session.get(ReviewDoc, doc_id)
        thread = threading.Thread(target=second_reviewer)
        thread.start()
        loaded.wait(10)
        FLOW.transition(doc, "approve", _user("dept01"))
        time.sleep(0.5)  # the second reviewer is now waiting on the lock
        db.session.commit()
        thread.join(30)
        assert len(outcome) == 1 and isinstance(outcome[0], WorkflowError)
        assert _stored(doc) == (State.SUBMITTED, 1)
        assert [e.action for e in FLOW.history(doc)] == ["approve"]


def test_history_names_a_user_without_a_display_name_and_the_system(ctx):
    doc = _doc()
    unit = _user("unit0101")
    nameless = User(username="wf-nameless", full_name="", role=unit.role,
                    org_unit_id=unit.org_unit_id)
    db.session.add(nameless)
    db.session.flush()
    FLOW.transition(doc, "submit", nameless)
    db.session.add(WorkflowEvent(object_type=ReviewDoc.__tablename__, object_id=doc.id,
                                 action="return", from_state="submitted", to_state="returned",
                                 user_id=None, comment="逾期自动退回"))
    db.session.flush()
    with force_locale("zh_Hans_CN"):
        assert [(e.actor_name, e.action_label) for e in FLOW.history(doc)] == [
            ("wf-nameless", "提交"), ("系统自动", "退回修改")]
