"""Stored scores: saved with their trace, shown by scope, recomputed to the same figure."""

from decimal import Decimal as D

from sqlalchemy import select, update

from core.extensions import db
from core.models import BudgetItem, OrgUnit
from core.models.score import ScoreRecord
from core.services.score_records import latest_score, reproduces, save_score, trace_of
from core.services.scoring import SELF_EVALUATION_2020, Indicator, score


def _sheet(actual):
    return Indicator("自评", children=[
        Indicator("预算执行率", 10, "rate", {"rate": D("95.5")}),
        Indicator("产出", children=[Indicator("数量", children=[
            Indicator("完成率", 50, "proportional", {"target": D(100), "actual": D(actual)})])]),
        Indicator("效益", children=[Indicator("社会效益", children=[
            Indicator("受益人数", 30, "proportional", {"target": D(200), "actual": D(180)})])]),
        Indicator("满意度", children=[Indicator("服务对象满意度", children=[
            Indicator("满意率", 10, "proportional", {"target": D(90), "actual": D(93)})])]),
    ])


def _item(session, code):
    return session.scalars(select(BudgetItem).join(OrgUnit).where(OrgUnit.code == code)
                           .order_by(BudgetItem.id).limit(1)).one()


def test_a_saved_score_recomputes_to_the_same_figure(db_session):
    item = _item(db_session, "D01U01")
    first = save_score(db_session, item, score(_sheet(80), SELF_EVALUATION_2020),
                       purpose="self_evaluation", org_unit_id=item.org_unit_id)
    second = save_score(db_session, item, score(_sheet(100), SELF_EVALUATION_2020),
                        purpose="self_evaluation", org_unit_id=item.org_unit_id)
    db_session.commit()
    assert first.total == D("86.55") and first.grade == "good"
    assert latest_score(db_session, item, "self_evaluation").id == second.id
    assert second.total == D("96.55") and second.grade == "excellent"
    assert reproduces(second)
    assert trace_of(second).node("产出/数量/完成率").points == D("50.00")


def test_a_tampered_stored_total_is_detected(db_session):
    item = _item(db_session, "D01U02")
    record = save_score(db_session, item, score(_sheet(80), SELF_EVALUATION_2020),
                        purpose="self_evaluation", org_unit_id=item.org_unit_id)
    db_session.commit()
    db_session.execute(update(ScoreRecord).where(ScoreRecord.id == record.id)
                       .values(total=D("99.00")))
    db_session.commit()
    db_session.refresh(record)
    assert not reproduces(record)


def test_scores_follow_the_row_scope(app):
    with app.app_context():
        item = _item(db.session, "D02U01")
        record = save_score(db.session, item, score(_sheet(80), SELF_EVALUATION_2020),
                            purpose="self_evaluation", org_unit_id=item.org_unit_id)
        db.session.commit()
        record_id = record.id
    with app.test_request_context():
        from flask_login import login_user

        from core.models import User

        user = db.session.scalars(select(User).where(User.username == "dept01")).one()
        login_user(user)
        assert db.session.get(ScoreRecord, record_id, populate_existing=True) is None
        assert record_id not in db.session.scalars(select(ScoreRecord.id)).all()
