"""The home page as a pipeline of the selected year, the breadcrumbs, and the notifications
page's links: what a finance officer, a department and a unit see when they sign in."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from core.extensions import db
from core.models import OrgUnit, User
from core.plugins import hooks
from core.scope import unscoped
from core.services.notifications import notify
from plugins.system.workflow_notices import on_finalized
from plugins.targets.models import TargetSheet
from tests.support import csrf_from, evaluation_result

STAGE_CARD = re.compile(r'class="card h-100 jixiao-stage" data-stage="(\w+)"')
BAR = re.compile(r'<(a|div) class="d-block small text-body jixiao-bar"(?: href="([^"]+)")?>\s*'
                 r'<span class="d-flex justify-content-between"><span>([^<]+)</span>'
                 r'<span>([\d,]+) / ([\d,]+)</span>')
LIST_COUNT = re.compile(r'class="nav-link active">[^<(]*\((\d+)\)</a>')


def _card(page: str, stage: str) -> str:
    start = page.index(f'data-stage="{stage}"', page.index("jixiao-pipeline"))
    end = page.find('class="card h-100 jixiao-stage"', start)
    return page[start:end if end > 0 else None]


def _bars(card: str) -> list[tuple[str | None, str, int, int]]:
    return [(html.unescape(link) if link else None, label, int(done.replace(",", "")),
             int(total.replace(",", ""))) for _tag, link, label, done, total in BAR.findall(card)]


def _choose(client, year: int) -> None:
    client.post(f"/year/{year}", data={"csrf_token": csrf_from(client.get("/admin/").text)})


def test_finance_home_has_one_card_per_stage_in_stage_order(app, login):
    page = login("finance").get("/admin/").text
    cards = STAGE_CARD.findall(page)
    order = list(hooks(app).stages())
    assert cards == sorted(cards, key=order.index)
    assert cards[:4] == ["preassessment", "targets", "monitoring", "evaluation"]
    assert "2026 年度各环节进展" in page
    assert re.search(r'jixiao-due">截止 \d{4}-\d\d-\d\d<', _card(page, "targets"))
    departments = [label for _l, label, _d, _t in _bars(_card(page, "targets"))]
    assert "区教育局" in departments and "区民政局" in departments  # per department


def test_a_department_sees_one_bar_per_unit_each_linking_to_what_it_counts(app, login):
    client = login("dept01")
    page = client.get("/admin/").text
    bars = _bars(_card(page, "targets"))
    with app.app_context(), unscoped():
        units = set(db.session.scalars(select(OrgUnit.name).where(
            OrgUnit.parent.has(OrgUnit.code == "D01"),
            OrgUnit.id.in_(select(TargetSheet.org_unit_id)))))
    labels = {label for _link, label, _d, _t in bars}
    assert units <= labels and "区教育局（本级）" in labels
    assert not any("卫生" in label for label in labels)  # nothing of another department
    for link, label, _done, total in bars:
        if link is None:
            continue  # the department's own items: no list filters them alone
        listed = LIST_COUNT.search(client.get(link).text)
        assert listed and int(listed.group(1)) == total, (label, link)


def test_a_light_links_to_the_records_of_that_light(app, login):
    client = login("finance")
    lights = _bars(_card(client.get("/admin/").text, "monitoring"))
    red = next(bar for bar in lights if bar[1] == "红灯")
    page = client.get(red[0]).text
    assert int(LIST_COUNT.search(page).group(1)) == red[2] > 0


def test_a_unit_starts_with_its_tasks_and_sees_only_its_own_unit(app, login):
    client = login("unit0101")
    page = client.get("/admin/").text
    # 待办 is fetched once the page is shown, into its place above the stage cards
    assert page.index('data-tasks="/workbench/tasks"') < page.index("jixiao-pipeline")
    tasks = client.get("/workbench/tasks").text
    assert ">待办</h2>" in tasks and "jixiao-task-group" in tasks
    labels = {label for stage in STAGE_CARD.findall(page)
              for _link, label, _d, _t in _bars(_card(page, stage))
              if label not in ("红灯", "黄灯", "绿灯", "未填报")}
    assert labels == {"区教育局管理所"}
    assert "财政局" not in page.split("jixiao-pipeline")[1]


def test_every_card_follows_the_selected_year(app, login):
    client = login("finance")
    _choose(client, 2025)
    page = client.get("/admin/").text
    pipeline = page.split("jixiao-pipeline")[1]
    assert "2025 年度绩效目标" in pipeline and "2025 年度单位自评" in pipeline
    assert "2025年1-7月绩效运行监控" in pipeline
    assert not re.search(r"2026 ?年", pipeline)


def test_breadcrumbs_lead_from_home_to_the_record(app, login):
    client = login("dept01")
    with app.app_context(), unscoped():
        sheet = db.session.scalar(select(TargetSheet).join(
            OrgUnit, OrgUnit.id == TargetSheet.org_unit_id).where(OrgUnit.code.like("D01%"))
            .limit(1))
        sheet_id, name = sheet.id, str(sheet)
    crumbs = re.compile(r'<li class="breadcrumb-item( active)?">(?:<a href="([^"]+)">)?([^<]+)')
    record = crumbs.findall(client.get(f"/admin/targetsheet/sheet/?id={sheet_id}").text)
    assert [words for _a, _l, words in record] == ["首页", "绩效目标", "绩效目标表", name]
    assert [link for _a, link, _w in record] == ["/admin", "", "/admin/targetsheet/", ""]
    listing = crumbs.findall(client.get("/admin/targetsheet/").text)
    assert [(active, words) for active, _l, words in listing] == [
        ("", "首页"), ("", "绩效目标"), (" active", "绩效目标表")]
    assert "breadcrumb-item" not in client.get("/admin/").text


def test_a_record_page_says_whose_turn_it_is(app, login):
    with app.app_context(), unscoped():
        sheet_id = db.session.scalar(select(TargetSheet.id).join(
            OrgUnit, OrgUnit.id == TargetSheet.org_unit_id).where(
            OrgUnit.code.like("D01%"), TargetSheet.state == "submitted",
            TargetSheet.review_level == 0).limit(1))
    page = login("dept01").get(f"/admin/targetsheet/sheet/?id={sheet_id}").text
    assert '<strong class="jixiao-state">待部门审核</strong>' in page


def test_a_notification_of_a_deleted_record_says_it_is_gone(app, login):
    with app.app_context(), unscoped():
        person = db.session.scalar(select(User.id).where(User.username == "unit0101"))
        gone = notify(person, "测试：已删除的记录", link="/admin/targetsheet/sheet/?id=987654")
        kept_id = db.session.scalar(select(TargetSheet.id).join(
            OrgUnit, OrgUnit.id == TargetSheet.org_unit_id).where(OrgUnit.code == "D01U01")
            .limit(1))
        kept = notify(person, "测试：仍在的记录", link=f"/admin/targetsheet/sheet/?id={kept_id}")
        db.session.commit()
        gone_id, kept_note = gone.id, kept.id
    client = login("unit0101")
    assert f"/admin/notification/open/?id={gone_id}" in client.get("/admin/notification/").text
    r = client.get(f"/admin/notification/open/?id={gone_id}", follow_redirects=True)
    assert r.status_code == 200 and "该通知所指的记录已不存在" in r.text
    r = client.get(f"/admin/notification/open/?id={kept_note}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"sheet/?id={kept_id}")
    # someone else's notification is not theirs to open
    assert login("unit0102").get(f"/admin/notification/open/?id={kept_note}").status_code == 404


def test_the_final_evaluation_notice_gives_the_grade_in_words(app, login):
    with app.app_context(), unscoped():
        org_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "D01U01"))
        on_finalized(evaluation_result([], year=2025, org_unit_id=org_id, grade="B",
                                       title="等级测试评价"))
        db.session.commit()
    page = login("unit0101").get("/admin/notification/").text
    row = page[page.index("等级测试评价"):][:600]
    assert "等级 良" in row or "等级良" in row, row
    assert not re.search(r"等级 ?B", row)
