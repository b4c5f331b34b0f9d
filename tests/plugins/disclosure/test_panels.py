"""The disclosure panel on a budget item's page: the item's publications with their state in
words and, once published, the link to the public page."""

from __future__ import annotations

from datetime import datetime

from flask_login import login_user

from core.extensions import db
from core.models import BudgetItem, State
from core.plugins import hooks
from core.scope import unscoped
from tests.plugins.disclosure.test_tasks import publication, set_state  # noqa: F401 (fixture)
from tests.support import user


def panels_of(app, username: str, item_id: int) -> list[str]:
    with app.test_request_context():
        login_user(user(username))
        with unscoped() as session:  # the page's item, even for a reader outside its scope
            item = session.get(BudgetItem, item_id)
        return [str(p.html) for p in hooks().item_panels(item=item) if p.stage == "disclosure"]


def test_a_draft_then_a_published_publication(app, publication):  # noqa: F811
    from plugins.disclosure.models import Publication

    pub_id, item_id = publication()
    [html] = panels_of(app, "dept01", item_id)
    assert "项目绩效目标" in html and "草稿" in html
    assert f"/admin/publication/review/?id={pub_id}" in html
    assert "/disclosure/" not in html

    with app.app_context():
        pub = db.session.get(Publication, pub_id)
        pub.state, pub.review_level = State.APPROVED, 1
        pub.published_at = datetime(2026, 3, 2, 1, 30)  # stored in UTC
        db.session.commit()
    [html] = panels_of(app, "unit0101", item_id)
    assert "已公开" in html and "2026-03-02 09:30" in html  # shown in Asia/Shanghai
    assert "/disclosure/2025/D01/?section=targets" in html
    assert panels_of(app, "dept02", item_id) == []


def test_the_results_naming_the_item_are_listed(app, publication):  # noqa: F811
    _pub, item_id = publication()
    result_pub, _none = publication(result_for=[item_id + 1000000, item_id])
    lookalike, _none = publication(result_for=[int(f"{item_id}1")])
    [html] = panels_of(app, "dept01", item_id)
    assert "评价结果" in html and f"/admin/publication/review/?id={result_pub}" in html
    assert f"/admin/publication/review/?id={lookalike}" not in html


def test_an_item_without_publications_has_no_panel(app, publication):  # noqa: F811
    pub_id, item_id = publication()
    with app.app_context():
        from plugins.disclosure.models import Publication

        db.session.delete(db.session.get(Publication, pub_id))
        db.session.commit()
    assert panels_of(app, "dept01", item_id) == []
