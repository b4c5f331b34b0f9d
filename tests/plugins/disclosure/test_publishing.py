"""Publishing is an explicit approval per item; public pages (no login) show only what
was approved, never a person or an internal comment, whoever asks and whatever id is
guessed; open data has the same content as CSV, JSON and XLSX at stable URLs."""

from __future__ import annotations

import csv
import html
import io
import json
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select

from core.extensions import db
from core.plugins import hooks
from plugins.disclosure.models import StoredResult
from tests.plugins.disclosure.conftest import YEAR, act, prepare, publications, result
from tests.support import csrf_from


def _published_a_not_b(app, login, world, stages):
    """A and B have approved targets; both submitted, only A published (with a comment)."""
    for suffix, goal in (("A", "甲项目公开目标"), ("B", "乙项目未公开目标")):
        stages.approve_targets(world.items[suffix], world.unit_id, goal)
    finance = login("finance")
    assert prepare(finance).status_code == 200
    pubs = publications(app, world)
    a, b = pubs["item_targets:A"], pubs["item_targets:B"]
    assert "item_targets:C" not in pubs  # no approved targets, nothing to publish
    assert "item_targets:P" not in pubs  # policies only as a chosen pilot
    dept = login(world.user)
    act(dept, "submit", [a, b])
    act(dept, "approve", [a])  # the department cannot publish
    assert "甲项目公开目标" not in login("finance").get(
        f"/disclosure/{YEAR}/{world.dept_code}/").text
    act(finance, "approve", [a], comment="内部审核意见：金额偏大")
    return finance, a, b


def test_only_approved_items_reach_the_public_page(app, client, login, world, stages):
    finance, a, b = _published_a_not_b(app, login, world, stages)
    page = client.get(f"/disclosure/{YEAR}/{world.dept_code}/")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert world.code("A") in text and "甲项目公开目标" in text and f"完成数量{world.items['A']}" in text
    assert "≥10个" in text
    assert world.code("B") not in text and "乙项目未公开目标" not in text
    assert "内部审核意见" not in text and "经办人" not in text and "财政局绩效科" not in text
    assert 'name="viewport"' in page.text
    year_page = client.get(f"/disclosure/{YEAR}/")
    assert f"公开测试部门{world.tag}" in year_page.text
    # withdrawn: gone from the page and from open data
    act(finance, "reopen", [a])
    text = client.get(f"/disclosure/{YEAR}/{world.dept_code}/").text
    assert world.code("A") not in text
    assert world.code("A") not in client.get(f"/disclosure/{YEAR}/targets.csv").text


def test_open_data_in_three_formats_with_the_same_content(app, client, login, world, stages):
    _published_a_not_b(app, login, world, stages)
    base = f"/disclosure/{YEAR}/{world.dept_code}/targets"
    r = client.get(base + ".csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert len(data) == 2 and {row[4] for row in data} == {world.code("A")}
    body = json.loads(client.get(base + ".json").data)
    assert body["dataset"] == "targets" and len(body["rows"]) == 2
    assert body["rows"][0]["item_code"] == world.code("A")
    assert body["rows"][0]["amount"] == "6000000.00"  # exact, as a string
    sheet = load_workbook(io.BytesIO(client.get(base + ".xlsx").data), read_only=True).active
    xrows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [str(c) for c in xrows[0]] == header
    assert [[str(c) if c is not None else "" for c in row][:5] for row in xrows[1:]] == \
        [row[:5] for row in data]
    # the district-wide file holds the department's rows too, and never B
    district = client.get(f"/disclosure/{YEAR}/targets.json")
    codes = {row["item_code"] for row in json.loads(district.data)["rows"]}
    assert world.code("A") in codes and world.code("B") not in codes
    assert "attachment" in district.headers["Content-Disposition"]


def test_results_are_published_with_grade_and_score(app, client, login, world, stages):
    evaluation = result([world.items["A"]], world.unit_id, amount="6000000.00", score="91.50",
                        grade="A")
    with app.app_context():
        hooks(app).evaluation_finalized(evaluation=evaluation)
        db.session.commit()
        stored = db.session.scalar(select(StoredResult).where(
            StoredResult.evaluation_id == evaluation.id))
        assert stored.grade == "A" and stored.org_unit_id == world.unit_id
    finance = login("finance")
    prepare(finance)
    pub = publications(app, world)[f"evaluation_result:R{stored.id}"]
    assert world.code("A") not in client.get(f"/disclosure/{YEAR}/{world.dept_code}/results.csv").text
    act(login(world.user), "submit", [pub])  # the owner submits, finance approves
    act(finance, "approve", [pub])
    page = html.unescape(client.get(f"/disclosure/{YEAR}/{world.dept_code}/?section=results").text)
    assert "91.50" in page and "总体完成较好" in page
    assert "<td>优</td>" in page
    rows = json.loads(client.get(f"/disclosure/{YEAR}/{world.dept_code}/results.json").data)["rows"]
    assert [(r["score"], r["grade"], r["item_code"]) for r in rows] == \
        [("91.50", "A", world.code("A"))]


def test_a_policy_is_published_only_as_a_chosen_pilot(app, client, login, world, stages):
    stages.approve_targets(world.items["P"], world.unit_id, "政策试点目标")
    stages.approve_targets(world.items["C"], world.unit_id, "项目目标")
    finance = login("finance")
    new = finance.get("/admin/publication/new/")
    r = finance.post("/admin/publication/new/", data={
        "csrf_token": csrf_from(new.text), "kind": "policy_pilot",
        "budget_item": str(world.items["C"])})
    assert r.status_code == 200  # a project is no policy
    assert "policy_pilot:C" not in publications(app, world)
    r = finance.post("/admin/publication/new/", data={
        "csrf_token": csrf_from(new.text), "kind": "policy_pilot",
        "budget_item": str(world.items["P"])})
    assert r.status_code == 302
    pub = publications(app, world)["policy_pilot:P"]
    act(login(world.user), "submit", [pub])  # the owner submits, finance approves
    act(finance, "approve", [pub])
    page = client.get(f"/disclosure/{YEAR}/{world.dept_code}/?section=policies").text
    assert "政策试点目标" in page and world.code("P") in page


def test_approval_without_approved_targets_is_refused(app, login, world, stages):
    stages.approve_targets(world.items["C"], world.unit_id, "将被撤回的目标")
    finance = login("finance")
    prepare(finance)
    pub = publications(app, world)["item_targets:C"]
    act(login(world.user), "submit", [pub])  # the owner submits, finance approves
    del stages.targets[world.items["C"]]  # the targets were reopened meanwhile
    page = act(finance, "approve", [pub])
    assert world.code("C") in html.unescape(page.text)  # named in the error
    with app.app_context():
        from plugins.disclosure.models import Publication

        assert db.session.get(Publication, pub).state == "submitted"


def test_unknown_years_departments_and_files_are_404_pages(client, world):
    assert client.get("/disclosure/").status_code == 200
    for path in ("/disclosure/1999/", f"/disclosure/1999/{world.dept_code}/",
                 f"/disclosure/{YEAR}/NOPE/", f"/disclosure/{YEAR}/{world.unit_code}/",
                 f"/disclosure/{YEAR}/CZJ/", f"/disclosure/{YEAR}/secrets.csv",
                 f"/disclosure/{YEAR}/targets.exe", f"/disclosure/{YEAR}/{world.dept_code}/x.json",
                 f"/disclosure/{YEAR}/NOPE/targets.csv"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "页面不存在" in r.text or "Not Found" in r.text
    r = client.get(f"/disclosure/{YEAR}/{world.dept_code}/?section=<script>")
    assert r.status_code == 400 and "<script>" not in r.text


def test_nothing_private_is_reachable_by_guessing_ids(app, client, login, world, stages):
    _finance, a, b = _published_a_not_b(app, login, world, stages)
    for path in (f"/admin/publication/details/?id={b}", f"/admin/publication/edit/?id={a}",
                 "/admin/publication/", "/admin/disclosureresult/", "/admin/disclosure-check/"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.location, path
    assert client.get(f"/api/v1/publications/{b}").status_code == 401
    other = login(world.other_user)
    assert other.get(f"/api/v1/publications/{b}").status_code == 404
    assert other.get(f"/admin/publication/details/?id={b}").status_code in (302, 404)
    # a logged-in user of another department sees the same public page as everybody
    page = other.get(f"/disclosure/{YEAR}/{world.dept_code}/").text
    assert world.code("A") in page and world.code("B") not in page
    for fmt in ("csv", "json"):
        for path in (f"/disclosure/{YEAR}/targets.{fmt}", f"/disclosure/{YEAR}/results.{fmt}"):
            assert world.code("B") not in client.get(path).text


def test_reviewer_previews_returns_with_a_comment_then_publishes(app, client, login, world,
                                                                 stages):
    stages.approve_targets(world.items["B"], world.unit_id, "乙项目目标预览")
    finance = login("finance")
    prepare(finance)
    pub = publications(app, world)["item_targets:B"]
    dept = login(world.user)
    act(dept, "submit", [pub])
    page = finance.get(f"/admin/publication/review/?id={pub}")
    assert page.status_code == 200 and "乙项目目标预览" in page.text  # the preview
    form = {"csrf_token": csrf_from(page.text), "action": "return"}
    finance.post(f"/admin/publication/workflow/?id={pub}", data=form)
    with app.app_context():  # a return needs a comment
        from plugins.disclosure.models import Publication

        assert db.session.get(Publication, pub).state == "submitted"
    r = finance.post(f"/admin/publication/workflow/?id={pub}",
                     data={**form, "comment": "请补充满意度调查口径"}, follow_redirects=True)
    assert "请补充满意度调查口径" in r.text  # in the history, for staff
    act(dept, "submit", [pub])
    finance.post(f"/admin/publication/workflow/?id={pub}",
                 data={**form, "action": "approve", "comment": "同意公开"})
    text = client.get(f"/disclosure/{YEAR}/{world.dept_code}/").text
    assert "乙项目目标预览" in text
    assert "请补充满意度调查口径" not in text and "同意公开" not in text
    other = login(world.other_user)
    assert other.get(f"/admin/publication/review/?id={pub}").status_code == 404
    token = csrf_from(other.get("/admin/publication/").text)
    assert other.post(f"/admin/publication/workflow/?id={pub}",
                      data={"csrf_token": token, "action": "reopen"}).status_code == 404


def test_results_of_different_kinds_with_the_same_id_are_kept_apart(app, world, stages):
    """The evaluation plugin numbers each kind on its own: (kind, id) names a result."""
    from dataclasses import replace

    key = result([world.items["A"]], world.unit_id, score="91.50", grade="A")
    own = replace(key, kind="self", score=Decimal("72.00"), grade="C")
    plugins = hooks(app)
    with app.app_context():
        plugins.evaluation_finalized(evaluation=key)
        plugins.evaluation_finalized(evaluation=own)
        db.session.commit()
        rows = {r.kind: r.grade for r in db.session.scalars(select(StoredResult).where(
            StoredResult.evaluation_id == key.id))}
        assert rows == {"department_key": "A", "self": "C"}


def test_preparing_asks_first_with_the_counts_and_runs_as_the_person(app, login, world, stages):
    from core.models import AuditLog
    from plugins.disclosure.models import Publication

    stages.approve_targets(world.items["A"], world.unit_id, "确认页计数目标")
    finance = login("finance")
    page = finance.get("/admin/publication/prepare/", query_string={"year": YEAR}).text
    assert f"生成 {YEAR} 年度公开事项" in page
    assert "起草 1 个已批复绩效目标的公开事项" in page
    assert "item_targets:A" not in publications(app, world)  # nothing before the start
    done = prepare(finance)
    assert f"已为 {YEAR} 年度生成" in done.text and "100%" in done.text
    pub_id = publications(app, world)["item_targets:A"]
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(
            AuditLog.object_type == Publication.__tablename__,
            AuditLog.object_id == str(pub_id), AuditLog.action == "create"))
        assert entry is not None and entry.username == "finance"
