"""The trigger: which items need a pre-assessment, what is missing, exempt kinds."""

from __future__ import annotations

import html

from sqlalchemy import select

from core.extensions import db
from tests.plugins.preassessment.conftest import get_pa, make_pa
from tests.support import csrf_from, do_login


def _rows(client, year=2026, missing=False):
    url = f"/admin/preassessment-trigger/?year={year}" + ("&missing=1" if missing else "")
    r = client.get(url)
    assert r.status_code == 200
    return r.text


def test_new_items_over_the_threshold_are_found_and_listed_as_missing(app, login, world):
    dept = login("dept01")
    page = _rows(dept)
    with app.app_context():
        big, mid, small, old, policy, overall = (world.code(i) for i in (
            world.big, world.mid, world.small, world.old, world.policy, world.overall))
    assert f'data-item="{big}" data-status="missing"' in page
    assert f'data-item="{mid}" data-status="missing"' in page
    for code in (small, old, policy, overall):  # below threshold, continuing, wrong kind
        assert f'data-item="{code}"' not in page
    assert f'data-item="{mid}"' in _rows(dept, missing=True)


def test_substantially_changed_and_expiring_policies_are_triggered(app, login, world):
    make_pa(app, world.old, substantially_changed=True, change_note="补贴标准提高")
    make_pa(app, world.policy, extends_expiring_policy=True)
    page = _rows(login("dept01"))
    with app.app_context():
        assert f'data-item="{world.code(world.old)}"' in page
        assert f'data-item="{world.code(world.policy)}"' in page
    assert "延续" in page or "Expiring" in page


def test_exempt_items_count_as_assessed_with_the_reviewing_departments_opinion(
        app, login, world):
    pa_id = make_pa(app, world.mid, exempt_kind="information_technology",
                    reviewing_department="区数据局", review_opinion="信息化项目审核通过")
    dept = login("dept01")
    with app.app_context():
        code = world.code(world.mid)
    assert f'data-item="{code}" data-status="exempt"' in _rows(dept)
    assert f'data-item="{code}"' not in _rows(dept, missing=True)
    page = dept.get(f"/admin/preassessment/assessment/?id={pa_id}").text
    assert "信息化项目审核通过" in page and "区数据局" in page


def test_the_threshold_is_configurable_per_year(make_app, app, world):
    from plugins.preassessment.rules import DEFAULT_RULES

    data = {**DEFAULT_RULES.to_dict(), "code": "preassessment-2026", "valid_from": 2026,
            "threshold": "3000000"}
    other = make_app(PREASSESSMENT_RULE_VERSIONS=[data])
    client = other.test_client()
    assert do_login(client, "dept01").status_code == 302
    page = client.get("/admin/preassessment-trigger/?year=2026").text
    with app.app_context():
        assert f'data-item="{world.code(world.big)}"' in page
        assert f'data-item="{world.code(world.mid)}"' not in page  # 2,000,000 < 3,000,000
    assert "preassessment-2026" in page
    older = client.get("/admin/preassessment-trigger/?year=2025").text
    assert "preassessment-2021" in older


def test_the_create_form_refuses_an_exempt_item_without_the_opinion(app, login, world):
    from plugins.preassessment.models import Preassessment

    dept = login("dept01")
    page = dept.get("/admin/preassessment/new/")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.text), "budget_item": str(world.mid),
            "exempt_kind": "information_technology", "reviewing_department": "",
            "review_opinion": "", "change_note": ""}
    r = dept.post("/admin/preassessment/new/", data=data, follow_redirects=True)
    text = html.unescape(r.text)
    assert "审核的专业部门" in text or "specialist department" in text
    with app.app_context():
        assert db.session.scalar(select(Preassessment).where(
            Preassessment.budget_item_id == world.mid)) is None
    data.update(reviewing_department="区数据局", review_opinion="同意")
    r = dept.post("/admin/preassessment/new/", data=data, follow_redirects=True)
    with app.app_context():
        pa = db.session.scalar(select(Preassessment).where(
            Preassessment.budget_item_id == world.mid))
        assert pa is not None and pa.org_unit_id == pa.budget_item.org_unit_id
    assert get_pa(app, pa.id).reviewing_department == "区数据局"


def test_configured_rules_are_checked_when_loaded():
    import pytest

    from core.services.scoring import ScoringError
    from plugins.preassessment.rules import DEFAULT_RULES, PreassessmentRules

    base = DEFAULT_RULES.to_dict()
    with pytest.raises(ScoringError, match="90"):  # the sheet adds up to 90, not 100
        PreassessmentRules.from_dict({**base, "sheet": base["sheet"][:-1]})
    with pytest.raises(ScoringError):  # a gap between 60 and 70
        PreassessmentRules.from_dict({**base, "bands": [["reject", "0", "60"],
                                                        ["adjust", "70", "80"],
                                                        ["support", "80", "100"]]})
    again = PreassessmentRules.from_dict(base)
    assert again == DEFAULT_RULES
