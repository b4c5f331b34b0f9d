"""The disclosure stage's 待办: the department submits (or fixes) the year's publications,
the finance bureau approves them (a count)."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest
from flask_login import login_user
from sqlalchemy import delete, func, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, ItemKind, OrgUnit, State
from core.plugins import hooks
from core.scope import current_principal, unscoped
from tests.support import user

YEAR = 2025


def tasks_of(app, username: str, year: int = YEAR) -> list[dict]:
    with app.test_request_context():
        login_user(user(username))
        return [{"title": str(t.title), "link": t.link, "due": t.due, "count": t.count}
                for t in hooks().tasks(principal=current_principal(), year=year)
                if t.stage == "disclosure"]


@pytest.fixture
def publication(app):
    """``make(kind=ITEM_TARGETS)`` → a draft publication about a new 2025 item of D01U01:
    (publication id, item id); ``make.result(item_ids)`` → a stored result naming the items."""
    from plugins.disclosure import service
    from plugins.disclosure.models import Publication, PublicationKind, StoredResult

    items: list[int] = []
    results: list[int] = []

    def make(kind=PublicationKind.ITEM_TARGETS, result_for: list[int] | None = None):
        with app.app_context():
            fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == YEAR))
            unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
            if result_for is not None:
                from datetime import datetime

                result = StoredResult(
                    evaluation_id=10**8 + secrets.randbelow(10**8), kind="self", object_kind="project",
                    fiscal_year=YEAR, title="公开面板测试结果", budget_item_ids=result_for,
                    amount=Decimal("100000.00"), score=Decimal("92.00"), grade="A",
                    summary="", finalized_at=datetime(2026, 3, 1, 2, 0), org_unit_id=unit.id)
                db.session.add(result)
                db.session.flush()
                results.append(result.id)
                pub = service.new_publication(PublicationKind.EVALUATION_RESULT, result=result)
                db.session.commit()
                return pub.id, None
            tag = secrets.token_hex(3).upper()
            item = BudgetItem(code=f"2025-G{tag}", name=f"公开测试项目{tag}",
                              fiscal_year_id=fy.id, org_unit_id=unit.id, kind=ItemKind.PROJECT,
                              amount=Decimal("500000.00"))
            db.session.add(item)
            db.session.flush()
            items.append(item.id)
            pub = service.new_publication(kind, item=item)
            db.session.commit()
            return pub.id, item.id

    yield make
    with app.app_context():
        db.session.execute(delete(Publication).where(Publication.budget_item_id.in_(items)))
        db.session.execute(delete(Publication).where(Publication.result_id.in_(results)))
        db.session.execute(delete(StoredResult).where(StoredResult.id.in_(results)))
        db.session.execute(delete(BudgetItem).where(BudgetItem.id.in_(items)))
        db.session.commit()


def set_state(app, pub_id: int, state: State, level: int = 0) -> None:
    from plugins.disclosure.models import Publication

    with app.app_context():
        pub = db.session.get(Publication, pub_id)
        pub.state, pub.review_level = state, level
        db.session.commit()


def finance_queue(app) -> int:
    found = [t for t in tasks_of(app, "finance") if "待财政审核" in t["title"]]
    return found[0]["count"] if found else 0


def test_the_department_submits_then_finance_approves(app, publication):
    from plugins.disclosure.models import Publication

    pub_id, item_id = publication()
    link = f"/admin/publication/review/?id={pub_id}"
    with app.app_context():
        code = db.session.get(BudgetItem, item_id).code
    before = finance_queue(app)

    mine = [t for t in tasks_of(app, "dept01") if t["link"] == link]
    assert len(mine) == 1 and mine[0]["title"].startswith("提交公开事项（项目绩效目标）")
    assert code in mine[0]["title"]
    assert not [t for t in tasks_of(app, "dept02") if t["link"] == link]
    assert tasks_of(app, "unit0101") == []
    assert not [t for t in tasks_of(app, "dept01", YEAR + 1) if t["link"] == link]

    set_state(app, pub_id, State.SUBMITTED)
    assert not [t for t in tasks_of(app, "dept01") if t["link"] == link]
    with app.app_context(), unscoped() as session:
        waiting = session.scalar(select(func.count(Publication.id)).where(
            Publication.fiscal_year == YEAR, Publication.state == State.SUBMITTED))
    assert finance_queue(app) == waiting == before + 1

    set_state(app, pub_id, State.RETURNED)
    fix = [t for t in tasks_of(app, "dept01") if t["link"] == link]
    assert len(fix) == 1 and "退回" in fix[0]["title"]
    assert finance_queue(app) == before


def test_the_finance_queue_opens_the_waiting_publications(app, login, publication):
    draft_id, _item = publication()
    pub_id, _item = publication()
    set_state(app, pub_id, State.SUBMITTED)
    [queue] = [t for t in tasks_of(app, "finance") if "待财政审核" in t["title"]]
    page = login("finance").get(queue["link"])
    assert page.status_code == 200
    # the newest first: the waiting one is listed, the draft is filtered out
    assert f"/admin/publication/review/?id={pub_id}" in page.text
    assert f"/admin/publication/review/?id={draft_id}" not in page.text


def _queries(app, username: str) -> tuple[int, int]:
    """(tasks, SQL statements) of ``username``'s disclosure tasks."""
    from sqlalchemy import event

    seen = []
    with app.test_request_context():
        login_user(user(username))
        principal = current_principal()

        def count(*_args, **_kwargs):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            found = [t for t in hooks().tasks(principal=principal, year=YEAR)
                     if t.stage == "disclosure"]
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    return len(found), len(seen)


def test_more_waiting_records_cost_no_more_queries(app, publication):
    publication()
    tasks, queries = _queries(app, "dept01")
    for _n in range(3):
        publication()
    assert _queries(app, "dept01") == (tasks + 3, queries)


def test_the_stage_is_the_menu_category_in_stage_order(app):
    with app.test_request_context():
        stage = hooks().stages()["disclosure"]
        assert (str(stage.label), stage.order) == ("信息公开", 60)
