"""Commissioning: budget first, conflict-of-interest checks, workflow, closing; the registry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import State
from core.plugins import hookimpl, hooks
from tests.support import csrf_from, make_engagement


def _act(client, eng_id, action, comment=""):
    page = client.get(f"/admin/engagement/review/?id={eng_id}")
    assert page.status_code == 200
    return client.post("/admin/engagement/workflow/", data={
        "csrf_token": csrf_from(page.text), "id": eng_id, "action": action,
        "comment": comment}, follow_redirects=True)


def _state(app, eng_id):
    from plugins.agencies.models import Engagement

    with app.app_context():
        eng = db.session.get(Engagement, eng_id)
        return State(eng.state), eng.closed_at


def _submitted(app, world, **kwargs):
    with app.app_context():
        eng = make_engagement(world.agency_ids[0], world.staff_ids[0][:2], world.item_ids[:1],
                              state=State.SUBMITTED, tag=world.tag, n=kwargs.pop("n", 5),
                              **kwargs)
        db.session.commit()
        return eng.id


def test_budget_first_refuses_approval_until_the_fee_is_budgeted(app, login, world):
    from plugins.agencies.models import Engagement

    eng_id = _submitted(app, world, budget_amount=None)
    fin = login("finance")
    page = fin.get(f"/admin/engagement/review/?id={eng_id}")
    assert "jixiao-problems" in page.text
    _act(fin, eng_id, "approve")
    assert _state(app, eng_id)[0] == State.SUBMITTED
    with app.app_context():
        eng = db.session.get(Engagement, eng_id)
        eng.budget_amount = Decimal("149999.99")  # below the contract amount 150000.00
        db.session.commit()
    _act(fin, eng_id, "approve")
    assert _state(app, eng_id)[0] == State.SUBMITTED
    with app.app_context():
        eng = db.session.get(Engagement, eng_id)
        eng.budget_amount = Decimal("150000.00")
        db.session.commit()
    assert "jixiao-problems" not in fin.get(f"/admin/engagement/review/?id={eng_id}").text
    _act(fin, eng_id, "approve")
    assert _state(app, eng_id)[0] == State.APPROVED


def _conflict_setup(app, world, kind):
    from plugins.agencies.models import Agency, AgencyStatus, StaffEmployment, WorkKind

    with app.app_context():
        if kind == "staff":
            from core.models import OrgUnit

            unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
            db.session.add(StaffEmployment(staff_id=world.staff_ids[0][1], employer=unit.name,
                                           org_unit_id=unit.id, start_on=date(2018, 1, 1),
                                           end_on=date(2024, 12, 31)))
            marker = f"测试员{world.tag}01"
        elif kind == "consulting":
            earlier = make_engagement(world.agency_ids[0], world.staff_ids[0][:1],
                                      world.item_ids[1:2], kind=WorkKind.CONSULTING,
                                      tag=world.tag, n=7)
            marker = earlier.code
        elif kind == "pre_and_eval":
            earlier = make_engagement(world.agency_ids[0], world.staff_ids[0][:1],
                                      world.item_ids[:1], kind=WorkKind.PRE_ASSESSMENT,
                                      tag=world.tag, n=8)
            marker = earlier.code
        else:
            agency = db.session.get(Agency, world.agency_ids[0])
            agency.status, agency.status_note = AgencyStatus.BANNED, f"禁入{world.tag}"
            marker = f"禁入{world.tag}"
        db.session.commit()
    return marker


@pytest.mark.parametrize("kind", ["staff", "consulting", "pre_and_eval", "banned"])
def test_conflicts_of_interest_are_shown_and_block_approval(app, login, world, kind):
    from plugins.agencies.models import Agency, AgencyStatus

    eng_id = _submitted(app, world)
    marker = _conflict_setup(app, world, kind)
    try:
        fin = login("finance")
        page = fin.get(f"/admin/engagement/review/?id={eng_id}")
        problems = page.text.split("jixiao-problems", 1)
        assert len(problems) == 2 and marker in problems[1].split("</div>", 1)[0]
        r = _act(fin, eng_id, "approve")
        assert marker in r.text
        assert _state(app, eng_id)[0] == State.SUBMITTED
    finally:
        with app.app_context():
            agency = db.session.get(Agency, world.agency_ids[0])
            agency.status, agency.status_note = AgencyStatus.ACTIVE, ""
            db.session.commit()


def test_an_old_employment_is_no_conflict(app, login, world):
    from core.models import OrgUnit
    from plugins.agencies.models import StaffEmployment

    eng_id = _submitted(app, world)
    with app.app_context():
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
        db.session.add(StaffEmployment(staff_id=world.staff_ids[0][1], employer=unit.name,
                                       org_unit_id=unit.id, start_on=date(2010, 1, 1),
                                       end_on=date(2022, 12, 31)))  # more than 3 years before
        db.session.commit()
    _act(login("finance"), eng_id, "approve")
    assert _state(app, eng_id)[0] == State.APPROVED


def test_plugins_add_checks_through_the_hook(app, login, world):
    class Scoring:
        @hookimpl
        def jixiao_engagement_checks(self, engagement):
            return [f"staff banned by scoring {engagement.code}"]

    eng_id = _submitted(app, world)
    pm = hooks(app)
    plugin = Scoring()
    pm.register(plugin, name="test_scoring")
    try:
        r = _act(login("finance"), eng_id, "approve")
        assert "staff banned by scoring" in r.text
        assert _state(app, eng_id)[0] == State.SUBMITTED
    finally:
        pm.unregister(plugin)


def test_department_submits_finance_approves_and_closing_calls_the_hook(app, login, world):
    closed = []

    class Listener:
        @hookimpl
        def jixiao_engagement_closed(self, engagement):
            closed.append(engagement.code)

    with app.app_context():
        eng = make_engagement(world.agency_ids[0], world.staff_ids[0][:2], world.item_ids[:1],
                              state=State.DRAFT, tag=world.tag, n=9)
        db.session.commit()
        eng_id, code = eng.id, eng.code
    dept = login("dept01")
    _act(dept, eng_id, "submit")
    assert _state(app, eng_id)[0] == State.SUBMITTED
    page = dept.get(f"/admin/engagement/review/?id={eng_id}")
    assert 'value="approve"' not in page.text  # the department does not approve
    fin = login("finance")
    _act(fin, eng_id, "approve")
    assert _state(app, eng_id)[0] == State.APPROVED
    pm = hooks(app)
    listener = Listener()
    pm.register(listener, name="test_listener")
    try:
        _act(fin, eng_id, "close")
    finally:
        pm.unregister(listener)
    assert closed == [code]
    assert _state(app, eng_id)[1] is not None
    status = app.test_client()
    # the portal shows the status to the agency
    from tests.support import do_login

    do_login(status, "agency01")
    assert "jixiao-state" in status.get(f"/portal/engagements/{eng_id}").text


def test_engagement_form_rules(app, login, world):
    from plugins.agencies.models import Engagement

    fin = login("finance")
    page = fin.get("/admin/engagement/new/")
    with app.app_context():
        before = db.session.scalar(select(func.count(Engagement.id)))
        from core.models import OrgUnit

        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
    r = fin.post("/admin/engagement/new/", data={
        "csrf_token": csrf_from(page.text), "code": f"T-{world.tag}-form", "title": "x",
        "org_unit": unit.id, "agency": world.agency_ids[0], "kind": "evaluation",
        "procurement": "government_procurement", "contract_amount": "100.005",
        "start_on": "2026-05-01", "end_on": "2026-04-01",
        "team": [str(world.staff_ids[1][0])]})
    assert r.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(Engagement.id))) == before


def test_credit_code_check_digit():
    from plugins.agencies.uscc import make_uscc

    assert make_uscc("91350100M000100Y4") == "91350100M000100Y43"


def test_admin_refuses_a_wrong_credit_code(app, login):
    from plugins.agencies.models import Agency
    from plugins.agencies.uscc import make_uscc

    fin = login("finance")
    page = fin.get("/admin/agency/new/")
    good = make_uscc("91310000MA1X9Y8Z7".replace("Z", "T"))
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with app.app_context():
        before = db.session.scalar(select(func.count(Agency.id)))
    for code in (bad, "ABC", "91310000MA1X9Y8TI" + "1"):
        r = fin.post("/admin/agency/new/", data={
            "csrf_token": csrf_from(page.text), "name": f"测试机构{code}", "credit_code": code,
            "kind": "consultancy", "status": "active"})
        assert r.status_code == 200, code
    with app.app_context():
        assert db.session.scalar(select(func.count(Agency.id))) == before
    r = fin.post("/admin/agency/new/", data={
        "csrf_token": csrf_from(page.text), "name": "测试机构OK", "credit_code": good.lower(),
        "kind": "consultancy", "status": "active"})
    assert r.status_code == 302
    with app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.name == "测试机构OK"))
        assert agency.credit_code == good
        db.session.delete(agency)
        db.session.commit()


def test_uscc_problems_in_a_request(app):
    from plugins.agencies.uscc import uscc_problem

    with app.test_request_context():
        assert uscc_problem("91350100M000100Y43") is None
        assert uscc_problem("91350100M000100Y44")
        assert uscc_problem("91350100M000100Y4")
        assert uscc_problem("91350100M000100YI3")


def test_demo_attaches_agency_users_and_has_engagements(app, login):
    page = login("agency01").get("/portal/")
    assert page.status_code == 200 and "WT-2026-" in page.text
    home = login("agency01").get("/admin/")
    assert home.status_code == 200


def test_openapi_lists_the_routes(app):
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/engagements", "/api/v1/engagements/{engagement_id}",
                 "/api/v1/work-logs", "/api/v1/work-logs/{log_id}"):
        assert path in paths, path
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/work-logs/{log_id}"])
