"""The department's self-assessment: the five dimensions scored with the core engine."""

from __future__ import annotations

import html
import io

from sqlalchemy import select

from core.extensions import db
from core.models import Attachment, ScoreRecord, State
from tests.plugins.preassessment.conftest import GOOD, get_pa, make_pa, post, self_assess


def test_the_sheet_has_the_five_dimensions_of_the_report_format(app, login, world):
    pa_id = make_pa(app, world.mid)
    page = login("unit0101").get(f"/admin/preassessment/assessment/?id={pa_id}").text
    for dimension in ("立项必要性", "投入经济性", "绩效目标合理性", "实施方案可行性", "筹资合规性"):
        assert dimension in page


def test_submitting_scores_the_sheet_and_stores_a_reproducible_trace(app, login, world):
    from core.services.score_records import latest_score, reproduces
    from core.services.scoring import hook_resolver
    from plugins.preassessment.models import Preassessment

    pa_id = make_pa(app, world.mid)
    r = self_assess(login("unit0101"), pa_id, GOOD)
    assert "86.00" in r.text
    pa = get_pa(app, pa_id)
    assert State(pa.state) == State.SUBMITTED and str(pa.self_score) == "86.00"
    with app.app_context():
        record = latest_score(db.session, db.session.get(Preassessment, pa_id),
                              "preassessment_self")
        assert record.grade == "support" and str(record.total) == "86.00"
        assert "立项必要性" in str(record.trace)
        assert reproduces(record, hook_resolver(app))


def test_scores_outside_the_range_are_refused_and_nothing_is_saved(app, login, world):
    pa_id = make_pa(app, world.mid)
    client = login("unit0101")
    bad = ["11", *GOOD[1:]]  # more than the weight 10
    r = self_assess(client, pa_id, bad, action="save")
    text = html.unescape(r.text)
    assert "政策依据与规划相符性" in text and "10" in text
    assert get_pa(app, pa_id).answers == {}
    for value in ("-1", "abc", "8.555"):
        r = self_assess(client, pa_id, [value, *GOOD[1:]], action="save")
        assert get_pa(app, pa_id).answers == {}, value
    assert "两位小数" in html.unescape(r.text) or "decimal places" in r.text


def test_a_draft_may_be_incomplete_but_a_submission_may_not(app, login, world):
    pa_id = make_pa(app, world.mid)
    client = login("unit0101")
    self_assess(client, pa_id, ["9", "", "", "", "", "", "", "", "", ""], action="save")
    pa = get_pa(app, pa_id)
    assert pa.answers["立项必要性/政策依据与规划相符性"]["points"] == "9"
    r = self_assess(client, pa_id, ["9", "", "", "", "", "", "", "", "", ""])
    assert "现实需求与紧迫性" in html.unescape(r.text)
    assert State(get_pa(app, pa_id).state) == State.DRAFT


def test_a_submitted_self_assessment_cannot_be_changed_and_finance_accepts_it(
        app, login, world):
    pa_id = make_pa(app, world.mid)
    client = login("unit0101")
    self_assess(client, pa_id, GOOD)
    self_assess(client, pa_id, ["1"] * 10, action="save")
    assert str(get_pa(app, pa_id).self_score) == "86.00"
    assert get_pa(app, pa_id).answers["投入经济性/投入产出比"]["points"] == "8"
    fin = login("finance")
    post(fin, f"/admin/preassessment/assessment/?id={pa_id}", "/admin/preassessment/workflow/",
         {"id": pa_id, "action": "approve"})
    assert State(get_pa(app, pa_id).state) == State.APPROVED


def test_evidence_is_attached_and_checked(app, login, world):
    pa_id = make_pa(app, world.mid)
    client = login("unit0101")
    url = f"/admin/preassessment/assessment/?id={pa_id}"
    r = post(client, url, "/admin/preassessment/evidence/",
             {"id": pa_id, "file": (io.BytesIO(b"%PDF-1.4 test"), "可行性研究报告.pdf")},
             content_type="multipart/form-data")
    assert "可行性研究报告.pdf" in r.text
    r = post(client, url, "/admin/preassessment/evidence/",
             {"id": pa_id, "file": (io.BytesIO(b"not a pdf"), "假文件.pdf")},
             content_type="multipart/form-data")
    with app.app_context():
        names = list(db.session.scalars(select(Attachment.filename).where(
            Attachment.object_type == "preassessment", Attachment.object_id == pa_id)))
    assert names == ["可行性研究报告.pdf"]


def test_another_department_cannot_see_or_change_the_assessment(app, login, world):
    pa_id = make_pa(app, world.mid)
    other = login("dept02")
    assert other.get(f"/admin/preassessment/assessment/?id={pa_id}").status_code == 404
    assert other.get(f"/api/v1/preassessments/{pa_id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(ScoreRecord).where(
            ScoreRecord.object_type == "preassessment", ScoreRecord.object_id == pa_id)) is None
