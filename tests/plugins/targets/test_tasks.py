"""The targets stage's 待办: a unit fills and fixes, the department reviews at level 0,
the finance bureau sees its level-1 queue as one count."""

from __future__ import annotations

from sqlalchemy import func, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, State
from core.plugins import hooks
from tests import support


def titles(app, username, stage="targets") -> list[str]:
    with support.signed_in(app, username) as principal:
        return [f"{t.title} -> {t.link}" for t in hooks().tasks(principal=principal, year=2026)
                if t.stage == stage]


def set_state(app, item_id, state, level=0):
    from plugins.targets import service
    from plugins.targets.models import TargetSheet

    with app.app_context():
        sheet = db.session.scalar(select(TargetSheet).where(TargetSheet.budget_item_id == item_id))
        if sheet is None:
            sheet = service.sheet_for(db.session.get(BudgetItem, item_id))
        sheet.state, sheet.review_level = state, level
        db.session.commit()
        return sheet.id


def test_a_unit_fills_then_the_department_reviews(app, draft_items):
    (item_id, code), *_rest = draft_items
    fill = [t for t in titles(app, "unit0101") if code in t]
    assert len(fill) == 1 and "填报" in fill[0] and "/admin/targetsheet/new/" in fill[0]

    sheet_id = set_state(app, item_id, State.DRAFT)
    fix = [t for t in titles(app, "unit0101") if code in t]
    assert len(fix) == 1 and f"/admin/targetsheet/sheet/?id={sheet_id}" in fix[0]
    assert not [t for t in titles(app, "dept01") if code in t]

    set_state(app, item_id, State.RETURNED)
    assert "退回" in [t for t in titles(app, "unit0101") if code in t][0]

    set_state(app, item_id, State.SUBMITTED, 0)
    assert not [t for t in titles(app, "unit0101") if code in t]
    review = [t for t in titles(app, "dept01") if code in t]
    assert len(review) == 1 and "审核" in review[0]
    # another department and another department's unit never see it
    assert not [t for t in titles(app, "dept02") if code in t]
    assert not [t for t in titles(app, "unit0201") if code in t]

    set_state(app, item_id, State.SUBMITTED, 1)  # the department approved: finance's turn
    assert not [t for t in titles(app, "dept01") if code in t]


def test_finance_sees_its_queue_as_one_count(app, draft_items):
    from plugins.targets.models import TargetSheet

    def waiting():
        with app.app_context():
            return db.session.scalar(
                select(func.count(TargetSheet.id))
                .join(FiscalYear, FiscalYear.id == TargetSheet.fiscal_year_id)
                .where(FiscalYear.year == 2026, TargetSheet.state == State.SUBMITTED,
                       TargetSheet.review_level == 1))

    def queue():
        with support.signed_in(app, "finance") as principal:
            tasks = [t for t in hooks().tasks(principal=principal, year=2026)
                     if t.stage == "targets"]
            return [(str(t.title), t.count, t.link, t.due) for t in tasks]

    before = queue()
    assert len(before) == 1 and before[0][0] == "待财政审核 绩效目标表"
    assert before[0][1] == waiting() > 0
    set_state(app, draft_items[0][0], State.SUBMITTED, 1)
    after = queue()
    assert after[0][1] == before[0][1] + 1 == waiting()
    # the link opens the list filtered to submitted sheets of the year: the sheet is there
    client = support_login(app, "finance")
    page = client.get(after[0][2])
    assert page.status_code == 200 and draft_items[0][1] in page.text
    assert draft_items[1][1] not in page.text  # still without a sheet
    assert after[0][3] is not None  # the fiscal year's targets deadline


def support_login(app, username):
    client = app.test_client()
    assert support.do_login(client, username).status_code == 302
    return client


def test_stage_is_the_menu_category(app):
    with app.test_request_context():
        stage = hooks().stages()["targets"]
        assert (str(stage.label), stage.order) == ("绩效目标", 20)
