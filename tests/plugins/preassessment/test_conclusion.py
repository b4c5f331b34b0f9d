"""The conclusion: bands, the panel's judgement, recommended amounts, the final lock,
the next-year budget list and the report."""

from __future__ import annotations

import html

import pytest

from core.models import State
from tests.plugins.preassessment.conftest import (
    GOOD,
    expert_scores,
    get_pa,
    key_panel,
    make_pa,
    post,
    review_of,
    self_assess,
    submitted_pa,
    user_id,
)

MID_SCORES = ["7"] * 10  # 70.00: the "adjust" band


def conclude(client, pa_id, conclusion, amount="", note="", action="save"):
    return post(client, f"/admin/preassessment/assessment/?id={pa_id}",
                "/admin/preassessment/conclude/",
                {"id": pa_id, "conclusion": conclusion, "recommended_amount": amount,
                 "note": note, "action": action})


def test_a_conclusion_needs_a_submitted_self_assessment(app, login, world):
    pa_id = make_pa(app, world.mid)
    r = conclude(login("finance"), pa_id, "support")
    assert "自评估" in r.text or "self-assessment" in r.text
    assert get_pa(app, pa_id).conclusion is None


def test_a_key_item_needs_the_whole_panel_before_its_conclusion(app, login, world):
    pa_id = key_panel(app, login, world)
    expert_scores(login("expert01"), review_of(app, pa_id, "expert01"), GOOD)
    r = conclude(login("finance"), pa_id, "support")
    assert "专家" in r.text or "panel" in r.text
    assert get_pa(app, pa_id).conclusion is None


def test_the_band_suggests_and_a_different_conclusion_needs_the_panels_reason(
        app, login, world):
    pa_id = submitted_pa(app, login, world.mid, MID_SCORES)
    fin = login("finance")
    page = fin.get(f"/admin/preassessment/assessment/?id={pa_id}").text
    assert 'class="jixiao-suggested">' in page and ("调整后支持" in page or "adjust" in page)
    r = conclude(fin, pa_id, "support")
    assert get_pa(app, pa_id).conclusion is None
    # the band by its name in the user's language, not its code
    assert "评估结论与分数档次“部分支持（调整后支持）”不一致，请填写专家组的理由。" in r.text, r.text
    conclude(fin, pa_id, "support", note="专家组认为该项目为区重点民生工程")
    pa = get_pa(app, pa_id)
    assert pa.conclusion == "support" and str(pa.recommended_amount) == "2000000.00"


@pytest.mark.parametrize("amount,ok", [("", False), ("2000000.00", False), ("0", False),
                                       ("1500000.001", False), ("abc", False),
                                       ("1500000.00", True)])
def test_partial_support_needs_an_amount_below_the_request(app, login, world, amount, ok):
    pa_id = submitted_pa(app, login, world.mid, MID_SCORES)
    conclude(login("finance"), pa_id, "adjust", amount)
    pa = get_pa(app, pa_id)
    assert (pa.conclusion == "adjust") is ok
    if ok:
        assert str(pa.recommended_amount) == "1500000.00"


def test_no_support_recommends_nothing(app, login, world):
    pa_id = submitted_pa(app, login, world.mid, ["5"] * 10)
    fin = login("finance")
    conclude(fin, pa_id, "reject", "100")
    assert get_pa(app, pa_id).conclusion is None
    conclude(fin, pa_id, "reject")
    assert str(get_pa(app, pa_id).recommended_amount) == "0.00"


def test_nothing_changes_after_the_conclusion_is_final(app, login, world):
    pa_id = key_panel(app, login, world, experts=("expert01", "expert02"))
    expert_scores(login("expert01"), review_of(app, pa_id, "expert01"), GOOD)
    expert_scores(login("expert02"), review_of(app, pa_id, "expert02"), GOOD)
    fin = login("finance")
    conclude(fin, pa_id, "support", action="final")
    before = get_pa(app, pa_id)
    assert before.final_at is not None and before.conclusion == "support"
    r = conclude(fin, pa_id, "reject", note="改变主意", action="final")
    assert "不能再修改" in html.unescape(r.text) or "final" in r.text
    post(fin, f"/admin/preassessment/assessment/?id={pa_id}", "/admin/preassessment/panel/",
         {"id": pa_id, "expert_id": user_id(app, "expert03")})
    assert review_of(app, pa_id, "expert03") is None
    post(fin, f"/admin/preassessment/assessment/?id={pa_id}", "/admin/preassessment/workflow/",
         {"id": pa_id, "action": "return", "comment": "重做"})
    unit = login("unit0101")
    self_assess(unit, pa_id, ["1"] * 10, action="save")
    assert unit.get(f"/admin/preassessment/edit/?id={pa_id}").status_code == 302  # refused
    r = post(unit, f"/admin/preassessment/assessment/?id={pa_id}",
             f"/admin/preassessment/edit/?id={pa_id}",
             {"budget_item": str(world.big), "high_attention": "y", "change_note": "",
              "reviewing_department": "", "review_opinion": "", "exempt_kind": "__None",
              "version": str(before.version)})
    after = get_pa(app, pa_id)
    assert (after.conclusion, after.recommended_amount, after.version, after.answers,
            State(after.state), after.high_attention) == (
        before.conclusion, before.recommended_amount, before.version, before.answers,
        State(before.state), before.high_attention)
    r = post(fin, "/admin/preassessment-key/", "/admin/preassessment-key/",
             {"item_id": world.big, "selected": "0"})
    assert get_pa(app, pa_id).is_key


def test_the_budget_list_shows_requested_and_recommended_amounts(app, login, world):
    pa_id = submitted_pa(app, login, world.mid, MID_SCORES)
    conclude(login("finance"), pa_id, "adjust", "1500000.00", action="final")
    with app.app_context():
        code = world.code(world.mid)
    page = login("dept01").get("/admin/preassessment-budget/?year=2026").text
    row = page.split(f'data-item="{code}"', 1)[1].split("</tr>", 1)[0]
    assert "2,000,000.00" in row and "1,500,000.00" in row and "-500,000.00" in row
    xlsx = login("dept01").get("/admin/preassessment-budget/?year=2026&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert code not in login("dept02").get("/admin/preassessment-budget/?year=2026").text


def test_the_report_in_html_and_for_word(app, login, world):
    pa_id = key_panel(app, login, world, experts=("expert01", "expert02"))
    expert_scores(login("expert01"), review_of(app, pa_id, "expert01"), GOOD,
                  opinion=f"意见甲{world.tag}")
    expert_scores(login("expert02"), review_of(app, pa_id, "expert02"), MID_SCORES,
                  opinion=f"意见乙{world.tag}")
    conclude(login("finance"), pa_id, "adjust", "7000000.00", action="final")
    dept = login("dept01")
    page = dept.get(f"/admin/preassessment/report/?id={pa_id}").text
    for text in ("86.00", "70.00", "78.00", f"意见甲{world.tag}", f"意见乙{world.tag}",
                 "7,000,000.00", "立项必要性"):
        assert text in page, text
    doc = dept.get(f"/admin/preassessment/report/?id={pa_id}&format=doc")
    assert doc.status_code == 200 and doc.mimetype == "application/msword"
    assert ".doc" in doc.headers["Content-Disposition"]
    body = doc.data.decode("utf-8")
    assert f"意见乙{world.tag}" in body and "78.00" in body and "<html" in body
    assert login("dept02").get(f"/admin/preassessment/report/?id={pa_id}").status_code == 404


def test_budget_preparation_reads_the_conclusions_through_the_contract(app, login, world):
    from core.plugins import hooks

    pa_id = submitted_pa(app, login, world.mid, MID_SCORES)
    exempt_id = make_pa(app, world.big, exempt_kind="capital_construction",
                        reviewing_department="区发展和改革委员会", review_opinion="同意立项")
    with app.app_context():
        assert world.mid not in hooks().preassessment_conclusions(2026, [world.mid, world.big])
    conclude(login("finance"), pa_id, "adjust", "1500000.00", action="final")
    with app.app_context():
        found = hooks().preassessment_conclusions(2026, [world.mid, world.big])
    assert found[world.mid].conclusion == "adjust"
    assert str(found[world.mid].recommended_amount) == "1500000.00"
    assert str(found[world.mid].requested_amount) == "2000000.00"
    assert str(found[world.mid].score) == "70.00" and found[world.mid].preassessment_id == pa_id
    assert found[world.big].conclusion == "exempt" and found[world.big].preassessment_id == \
        exempt_id and str(found[world.big].recommended_amount) == "8000000.00"


@pytest.mark.parametrize("username", ["dept01", "unit0101", "viewer", "expert01"])
def test_only_the_finance_bureau_decides(app, login, world, username):
    pa_id = submitted_pa(app, login, world.mid)
    client = login(username)
    page = client.get(f"/admin/preassessment/assessment/?id={pa_id}")
    if username == "expert01":
        assert page.status_code == 403
        return
    assert 'action="/admin/preassessment/conclude/"' not in page.text
    from tests.support import csrf_from

    r = client.post("/admin/preassessment/conclude/", data={
        "csrf_token": csrf_from(page.text), "id": pa_id, "conclusion": "support", "action": "final"})
    assert r.status_code == 403
    assert get_pa(app, pa_id).conclusion is None
