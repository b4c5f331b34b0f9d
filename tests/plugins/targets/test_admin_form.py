"""The admin create/edit form of a target sheet: indicators edited inline, checked together."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from plugins.targets.models import TargetIndicator, TargetSheet
from tests.support import csrf_from

INDICATORS = [
    {"level1": "产出", "level2": "数量", "name": "完成数量", "comparator": "ge",
     "target_value": "10", "unit": "个", "weight": "40", "scoring_method": "proportional"},
    {"level1": "效益", "level2": "社会效益", "name": "服务水平", "comparator": "qualitative",
     "target_value": "明显提升", "unit": "", "weight": "30", "scoring_method": "qualitative"},
    {"level1": "满意度", "level2": "服务对象满意度", "name": "满意度", "comparator": "ge",
     "target_value": "90", "unit": "%", "weight": "30", "scoring_method": "proportional"},
]


def form_data(page_html: str, item_id: int, indicators, goal="完成年度任务", ids=None,
              version=None) -> dict:
    data = {"csrf_token": csrf_from(page_html), "budget_item": str(item_id), "goal": goal,
            "period_goal": ""}
    if version is not None:
        data["version"] = str(version)
    for n, ind in enumerate(indicators):
        if ids:
            data[f"indicators-{n}-id"] = str(ids[n])
        for key, value in ind.items():
            data[f"indicators-{n}-{key}"] = value
        data.setdefault(f"indicators-{n}-data_source", "")
        data.setdefault(f"indicators-{n}-period_value", "")
    return data


def _sheet(app, item_id):
    with app.app_context():
        sheet = db.session.scalar(select(TargetSheet).where(
            TargetSheet.budget_item_id == item_id))
        if sheet is None:
            return None
        return {"id": sheet.id, "goal": sheet.goal, "version": sheet.version,
                "indicators": [(i.id, i.name, i.target_value, i.unit, i.weight)
                               for i in sheet.indicators]}


def _create(client, item_id, indicators, **kw):
    page = client.get("/admin/targetsheet/new/")
    assert page.status_code == 200
    return client.post("/admin/targetsheet/new/", data=form_data(page.text, item_id, indicators,
                                                                 **kw))


def test_create_then_edit_through_the_form(app, login, draft_items):
    client = login("unit0101")
    item_id = draft_items[0][0]
    r = _create(client, item_id, INDICATORS)
    assert r.status_code == 302, html.unescape(r.text)[-3000:]
    got = _sheet(app, item_id)
    sheet_page = f"/admin/targetsheet/sheet/?id={got['id']}"
    assert r.headers["Location"].endswith(sheet_page)  # back on the sheet, not the list
    assert got["goal"] == "完成年度任务"
    assert [(n, v, u, w) for _i, n, v, u, w in got["indicators"]] == [
        ("完成数量", "10", "个", Decimal("40.00")), ("服务水平", "明显提升", None, Decimal("30.00")),
        ("满意度", "90", "%", Decimal("30.00"))]
    with app.app_context():
        sheet = db.session.get(TargetSheet, got["id"])
        assert sheet.state == "draft" and sheet.org_unit_id is not None
        assert {i.org_unit_id for i in sheet.indicators} == {sheet.org_unit_id}
    # edit: change a value and the weights (still 100 in all)
    page = client.get(f"/admin/targetsheet/edit/?id={got['id']}")
    assert page.status_code == 200 and "完成数量" in page.text
    changed = [dict(INDICATORS[0], target_value="12", weight="45"),
               INDICATORS[1], dict(INDICATORS[2], weight="25")]
    r = client.post(f"/admin/targetsheet/edit/?id={got['id']}", data=form_data(
        page.text, item_id, changed, goal="新的目标", ids=[i[0] for i in got["indicators"]],
        version=got["version"]))
    assert r.status_code == 302, html.unescape(r.text)[-3000:]
    assert r.headers["Location"].endswith(sheet_page)
    after = _sheet(app, item_id)
    assert after["goal"] == "新的目标"
    assert [(v, w) for _i, _n, v, _u, w in after["indicators"]] == [
        ("12", Decimal("45.00")), ("明显提升", Decimal("30.00")), ("90", Decimal("25.00"))]


@pytest.mark.parametrize(("change", "expected"), [
    ({0: {"target_value": ""}}, ["指标值为空。"]),
    ({0: {"unit": ""}}, ["定量指标须填写计量单位。"]),
    ({0: {"weight": "50"}}, ["权重合计为 110，应为 100。"]),
    ({0: {"weight": "39.995"}, 2: {"weight": "30.005"}},
     ["权重须大于 0、不超过 100，且最多两位小数。"]),
    ({0: {"target_value": "", "unit": ""}, 1: {"weight": "20"}},
     ["指标值为空。", "定量指标须填写计量单位。", "权重合计为 90，应为 100。"]),
])
def test_bad_form_input_is_shown_by_field_in_chinese_and_nothing_written(
        app, login, draft_items, change, expected):
    client = login("unit0101")
    item_id = draft_items[1][0]
    indicators = [dict(ind, **change.get(n, {})) for n, ind in enumerate(INDICATORS)]
    with app.app_context():
        before = db.session.scalar(select(func.count(TargetIndicator.id)))
    r = _create(client, item_id, indicators)
    assert r.status_code == 200  # the form again, with its errors
    text = html.unescape(r.text)
    for message in expected:
        assert message in text
    assert "invalid-feedback" in text or "help-block" in text  # shown under the field
    assert _sheet(app, item_id) is None
    with app.app_context():
        assert db.session.scalar(select(func.count(TargetIndicator.id))) == before


def test_bad_edit_keeps_the_stored_sheet(app, login, draft_items):
    client = login("unit0101")
    item_id = draft_items[2][0]
    assert _create(client, item_id, INDICATORS).status_code == 302
    got = _sheet(app, item_id)
    page = client.get(f"/admin/targetsheet/edit/?id={got['id']}")
    bad = [dict(INDICATORS[0], target_value=""), INDICATORS[1], INDICATORS[2]]
    r = client.post(f"/admin/targetsheet/edit/?id={got['id']}", data=form_data(
        page.text, item_id, bad, goal="改了", ids=[i[0] for i in got["indicators"]],
        version=got["version"]))
    assert r.status_code == 200 and "指标值为空。" in html.unescape(r.text)
    assert _sheet(app, item_id) == got


def test_stale_edit_is_refused(app, login, draft_items):
    client = login("unit0101")
    item_id = draft_items[0][0]
    assert _create(client, item_id, INDICATORS).status_code == 302
    got = _sheet(app, item_id)
    page_a = client.get(f"/admin/targetsheet/edit/?id={got['id']}")
    page_b = client.get(f"/admin/targetsheet/edit/?id={got['id']}")
    ids = [i[0] for i in got["indicators"]]
    first = client.post(f"/admin/targetsheet/edit/?id={got['id']}", data=form_data(
        page_a.text, item_id, INDICATORS, goal="先保存", ids=ids, version=got["version"]))
    assert first.status_code == 302
    saved = _sheet(app, item_id)
    assert saved["goal"] == "先保存" and saved["version"] > got["version"]
    stale = client.post(f"/admin/targetsheet/edit/?id={got['id']}", data=form_data(
        page_b.text, item_id, INDICATORS, goal="后保存", ids=ids, version=got["version"]),
        follow_redirects=True)
    assert "请刷新页面后重新修改" in html.unescape(stale.text)
    assert _sheet(app, item_id)["goal"] == "先保存"


def test_a_submitted_sheet_cannot_be_edited_through_the_form(app, login, draft_items):
    client = login("unit0101")
    item_id = draft_items[1][0]
    assert _create(client, item_id, INDICATORS).status_code == 302
    got = _sheet(app, item_id)
    with app.app_context():
        sheet = db.session.get(TargetSheet, got["id"])
        sheet.state = "submitted"
        db.session.commit()
        version = sheet.version
    page = client.get(f"/admin/targetsheet/edit/?id={got['id']}", follow_redirects=True)
    assert "不能修改" in page.text  # the form does not open on a submitted sheet
    draft = client.get("/admin/targetsheet/new/")
    client.post(f"/admin/targetsheet/edit/?id={got['id']}", data=form_data(
        draft.text, item_id, INDICATORS, goal="不应保存", ids=[i[0] for i in got["indicators"]],
        version=version))
    assert _sheet(app, item_id)["goal"] == "完成年度任务"
    with app.app_context():
        sheet = db.session.get(TargetSheet, got["id"])
        sheet.state = "draft"
        db.session.commit()
