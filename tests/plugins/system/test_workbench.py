"""The workbench as people meet it: 待办 grouped by stage with the badge counting them,
the year switch, the budget item's page with every stage's panel, menus in stage order."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, OrgUnit
from core.plugins import hooks
from tests.support import csrf_from, signed_in


def test_tasks_page_groups_by_stage_and_the_badge_counts_them(app, login):
    unit = login("unit0101")
    home = unit.get("/admin/").text
    page = unit.get("/admin/tasks/").text
    groups = re.findall(r'data-stage="(\w+)"', page)
    stages = list(hooks(app).stages())
    assert groups, "the demo unit has tasks waiting"
    assert groups == sorted(groups, key=stages.index)  # in stage order
    counts = [int(n) for n in re.findall(
        r'<strong>[^<]+</strong> <span class="badge badge-secondary">(\d+)</span>', page)]
    assert unit.get("/workbench/counts").get_json()["tasks"] == sum(counts) > 0
    assert 'data-count="tasks"' in home  # the badge the page fills from /workbench/counts
    assert 'data-tasks="/workbench/tasks"' in home  # the block the page fills once shown
    block = unit.get("/workbench/tasks").text  # a unit's home page starts with its tasks
    assert re.findall(r'data-stage="(\w+)"', block) == groups


def test_the_home_page_task_block_holds_finance_queues_and_needs_a_login(app, client, login):
    assert "待财政" in login("finance").get("/workbench/tasks").text
    assert client.get("/workbench/tasks").status_code == 302  # to the login page


def test_finance_sees_queues_not_records(app, login):
    page = login("finance").get("/admin/tasks/").text
    assert "待财政" in page
    assert re.search(r'<span class="badge badge-primary">\d+</span>', page)


def test_year_switch_keeps_a_choice_and_refuses_an_unknown_year(app, login):
    c = login("dept01")
    home = c.get("/admin/")
    token = csrf_from(home.text)
    c.post("/year/2025", data={"csrf_token": token})
    assert "2025年度" in c.get("/admin/").text.split("jixiao-year")[1].split("</a>")[0]
    r = c.post("/year/1999", data={"csrf_token": token}, follow_redirects=True)
    assert "没有 1999 年度" in r.text
    assert "2025年度" in r.text.split("jixiao-year")[1].split("</a>")[0]


def test_the_item_page_shows_every_stage_and_respects_scope(app, login):
    with app.app_context():
        unit_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "D01U01"))
        item_ids = db.session.scalars(select(BudgetItem.id).where(
            BudgetItem.org_unit_id == unit_id)).all()
        with_panels = None
        for item_id in item_ids:
            with signed_in(app, "finance"):
                if len(hooks(app).item_panels(item=db.session.get(BudgetItem, item_id))) >= 2:
                    with_panels = item_id
                    break
    assert with_panels, "a demo item of D01U01 has records in two stages"
    page = login("finance").get(f"/admin/budgetitem/details/?id={with_panels}").text
    stages = re.findall(r'class="card mb-3 jixiao-item-panel" data-stage="(\w+)"', page)
    order = list(hooks(app).stages())
    assert len(stages) >= 2 and stages == sorted(stages, key=order.index)
    assert "项目全过程" in page
    assert login("dept02").get(f"/admin/budgetitem/details/?id={with_panels}").status_code \
        in (302, 404)


def test_menu_categories_follow_the_stages(app, login):
    page = login("finance").get("/admin/").text
    menu = page.split("</nav>")[0]  # the navigation bar only, not the page's cards
    with app.test_request_context():
        from flask_babel import force_locale

        with force_locale("zh_Hans_CN"):
            names = [str(s.label) for s in hooks(app).stages().values()]
    # the agencies' fee and scoring stages live in the third-party agencies' menu
    names = [n for n in names if n not in ("服务费用测算", "第三方机构考核")]
    positions = [menu.find(f"{n}<i") for n in names]
    assert -1 not in positions, names
    assert positions == sorted(positions)
    assert menu.find("更多<i") > max(positions)  # secondary links last
