"""The agency-assessment panel on a budget item's page: shown once an engagement of the
item has an assessment, with its score and grade."""

from __future__ import annotations

from flask_login import login_user
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem
from core.plugins import hooks
from tests.plugins.agency_scoring.conftest import FULL, assessment_of, close
from tests.support import user

API = "/api/v1/agency-assessments"


def panels_of(app, username: str, item_code: str) -> list:
    with app.test_request_context():
        login_user(user(username))
        item = db.session.scalar(select(BudgetItem).where(BudgetItem.code == item_code)
                                 .execution_options(jixiao_unscoped=True))
        return [(str(p.title), str(p.html)) for p in hooks().item_panels(item=item)
                if p.stage == "agency_scoring"]


def test_the_panel_appears_with_the_assessment_and_shows_score_and_grade(
        app, engagements, token_for):
    item = f"2026-AS{engagements.tag}-0"
    assert panels_of(app, "dept01", item) == []  # the engagement is still open
    with app.app_context():
        close(engagements.ids[0])
        aid = assessment_of(engagements.ids[0]).id
    [(title, html)] = panels_of(app, "dept01", item)
    assert title == "第三方机构考核"
    assert "待评分" in html
    assert f"/admin/agency_assessment/page/?id={aid}" in html
    r = app.test_client().post(f"{API}/{aid}/score", headers=token_for("dept01"),
                               json={"scores": FULL})
    assert r.status_code == 200
    [(_t, html)] = panels_of(app, "dept01", item)
    assert "100.00" in html and "优" in html and "已评分" in html
    # another department and the other agency's item: no panel
    assert panels_of(app, "dept02", item) == []
    assert panels_of(app, "dept01", f"2026-AS{engagements.tag}-1") == []
