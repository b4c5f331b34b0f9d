"""待办 of the agency-assessment stage: assessments to score (the commissioning party,
finance's queue), appeals to decide and ratings to compute and publish (finance), and
scores the agency may still appeal."""

from __future__ import annotations

from dataclasses import replace

from flask_login import login_user

from core.extensions import db
from core.plugins import hooks
from core.scope import current_principal
from tests.plugins.agency_scoring.conftest import FULL, assessment_of, close
from tests.support import user

API = "/api/v1/agency-assessments"


def tasks_of(app, username: str, year: int = 2026) -> list:
    with app.test_request_context():
        login_user(user(username))
        return [replace(t, title=str(t.title))
                for t in hooks().tasks(principal=current_principal(), year=year)
                if t.stage == "agency_scoring"]


def _closed(app, engagements, k=0):
    with app.app_context():
        close(engagements.ids[k])
        a = assessment_of(engagements.ids[k])
        return a.id, a.code


def _score(app, token_for, aid):
    r = app.test_client().post(f"{API}/{aid}/score", headers=token_for("dept01"),
                               json={"scores": FULL})
    assert r.status_code == 200, r.get_json()


def _count(tasks, words) -> int:
    return sum(t.count for t in tasks if words in t.title)


def test_the_commissioning_department_scores_then_the_agency_may_appeal(
        app, engagements, token_for, login):
    before = _count(tasks_of(app, "finance"), "待委托方评分")
    aid, code = _closed(app, engagements)
    [task] = [t for t in tasks_of(app, "dept01") if code in t.title]
    assert "评分" in task.title and task.link == f"/admin/agency_assessment/page/?id={aid}"
    assert login("dept01").get(task.link).status_code == 200
    assert not any(code in t.title for t in tasks_of(app, "dept02"))
    assert not any(code in t.title for t in tasks_of(app, "dept01", 2025))
    queue = [t for t in tasks_of(app, "finance") if "待委托方评分" in t.title]
    assert queue and queue[0].count == before + 1
    assert code in login("finance").get(queue[0].link).text
    assert not any(code in t.title for t in tasks_of(app, "agency01"))  # nothing to appeal yet
    _score(app, token_for, aid)
    assert not any(code in t.title for t in tasks_of(app, "dept01"))
    assert _count(tasks_of(app, "finance"), "待委托方评分") == before
    with app.app_context():
        until = assessment_of(engagements.ids[0]).appeal_until
    [appeal] = [t for t in tasks_of(app, "agency01") if code in t.title]
    assert "申诉" in appeal.title and appeal.due == until
    assert appeal.link == f"/admin/agency_assessment/page/?id={aid}"
    assert not any(code in t.title for t in tasks_of(app, "agency02"))
    # once appealed, the agency has nothing left to do; finance has an appeal to decide
    decide_before = _count(tasks_of(app, "finance"), "待处理的机构申诉")
    r = app.test_client().post(f"{API}/{aid}/appeal", headers=token_for("agency01"),
                               json={"reason": "评分有误"})
    assert r.status_code == 201
    assert not any(code in t.title for t in tasks_of(app, "agency01"))
    assert _count(tasks_of(app, "finance"), "待处理的机构申诉") == decide_before + 1


def test_finance_computes_then_publishes_the_rating_once_all_are_scored(
        app, engagements, token_for):
    from plugins.agency_scoring import rating
    from plugins.agency_scoring.models import Assessment

    year = 2031  # a year of its own: no demo assessments
    ids = []
    for k in range(2):
        aid, _code = _closed(app, engagements, k)
        ids.append(aid)
        with app.app_context():
            db.session.get(Assessment, aid).year = year
            db.session.commit()
    _score(app, token_for, ids[0])
    assert not any(str(year) in t.title for t in tasks_of(app, "finance", year))  # one open

    r = app.test_client().post(f"{API}/{ids[1]}/score", headers=token_for("dept01"),
                               json={"scores": FULL})
    assert r.status_code == 200
    [compute] = [t for t in tasks_of(app, "finance", year) if str(year) in t.title]
    assert "计算" in compute.title
    assert compute.link == f"/admin/agency_scoring_overview/?year={year}"
    assert not any(str(year) in t.title for t in tasks_of(app, "dept01", year))
    with app.app_context():
        rating.compute_ratings(year)
        db.session.commit()
    [publish] = [t for t in tasks_of(app, "finance", year) if str(year) in t.title]
    assert "发布" in publish.title
    with app.app_context():
        rating.publish_ratings(year)
        db.session.commit()
    assert not any(str(year) in t.title for t in tasks_of(app, "finance", year))
