"""The portal refuses in Chinese, inside the portal: another agency's engagement reads like
a missing page (nothing of it shown); staff who are not agency users get "not allowed"."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db


def test_another_agencys_engagement_is_a_chinese_not_found_page(app, login, world):
    from plugins.agencies.models import Engagement

    with app.app_context():
        other = db.session.get(Engagement, world.engagement_ids[1])
        code, title = other.code, other.title
    page = login("agency01").get(f"/portal/engagements/{world.engagement_ids[1]}")
    assert page.status_code == 404
    assert "页面不存在" in page.text and "返回我的委托" in page.text
    assert code not in page.text and title not in page.text
    assert f"secret{world.tag}1" not in page.text


def test_a_missing_engagement_reads_the_same(app, login):
    from plugins.agencies.models import Engagement

    with app.app_context():
        missing = (db.session.scalar(select(Engagement.id).order_by(Engagement.id.desc()))
                   or 0) + 1000
    page = login("agency01").get(f"/portal/engagements/{missing}")
    assert page.status_code == 404 and "页面不存在" in page.text


def test_staff_who_are_not_agency_users_are_not_allowed(login):
    page = login("dept01").get("/portal/")
    assert page.status_code == 403
    assert "无权访问" in page.text and "Forbidden" not in page.text


def test_the_refusal_of_a_non_agency_user_names_no_agency(app, login):
    from plugins.agencies.models import Agency

    with app.app_context():
        names = list(db.session.scalars(select(Agency.name)))
    page = login("dept01").get("/portal/")
    assert page.status_code == 403
    assert names and not any(name in page.text for name in names)
