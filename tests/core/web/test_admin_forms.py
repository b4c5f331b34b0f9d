"""Admin forms refuse bad input with an error on the field concerned, and write nothing.

Each test posts a form as the finance bureau (with the CSRF token of the form
page) and checks both what the user sees (the error next to the field) and
the database (no new row, old values kept). Messages are checked in English
(``/lang/en``) unless they already have a Chinese translation.
"""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgUnit, Project, Role, StageDeadline, User
from tests.support import csrf_from

_GROUP = re.compile(r'<div class="form-group[^"]*">')
_ERROR_LIST = re.compile(r'<ul class="form-text text-danger[^"]*">(.*?)</ul>', re.S)


def field_errors(page: str, name: str) -> list[str]:
    """The error messages shown under the form field called ``name``."""
    for block in _GROUP.split(page)[1:]:
        if f'name="{name}"' in block:
            items = re.findall(r"<li>(.*?)</li>", " ".join(_ERROR_LIST.findall(block)), re.S)
            return [html.unescape(i).strip() for i in items]
    raise AssertionError(f"no field {name!r} on the page")


def flashes(page: str) -> str:
    return " ".join(html.unescape(m) for m in re.findall(
        r'<div class="alert[^"]*"[^>]*>(.*?)</div>', page, re.S))


def submit(client, url: str, data: dict) -> str:
    """GET the form for its CSRF token, POST ``data``; return the page (expects no redirect)."""
    token = csrf_from(client.get(url).text)
    response = client.post(url, data={"csrf_token": token, **data})
    assert response.status_code == 200, f"expected the form again, got {response.status_code}"
    return response.text


def scalar(app, stmt):
    with app.app_context():
        return db.session.scalar(stmt)


def org_id(app, code: str) -> int:
    return scalar(app, select(OrgUnit.id).where(OrgUnit.code == code))


def year_id(app, year: int = 2026) -> int:
    return scalar(app, select(FiscalYear.id).where(FiscalYear.year == year))


def count(app, model, *where) -> int:
    return scalar(app, select(func.count()).select_from(model).where(*where))


@pytest.fixture
def finance(login):
    c = login("finance")
    c.get("/lang/en")
    return c


def item_data(app, **overrides) -> dict:
    data = {"code": "T-FORM-1", "name": "测试项目", "fiscal_year": year_id(app),
            "org_unit": org_id(app, "D01U01"), "kind": "project",
            "budget_type": "general_public", "amount": "1234.50", "contractor": "",
            "description": ""}
    data.update(overrides)
    return data


# --- budget items -----------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "message"), [
    ("-5", "The amount cannot be negative."),
    ("10.005", "At most two decimal places (fen) are allowed."),
    ("12abc", "Not a valid amount."),
    ("NaN", "Not a valid amount."),
    ("1e400", "The amount is too large."),
    ("", "This field is required."),
])
def test_bad_amount_is_refused_on_the_amount_field(app, finance, amount, message):
    code = f"T-AMT-{amount or 'empty'}"
    page = submit(finance, "/admin/budgetitem/new/", item_data(app, code=code, amount=amount))
    assert message in field_errors(page, "amount")
    assert count(app, BudgetItem, BudgetItem.code == code) == 0


def test_negative_amount_message_is_chinese_by_default(app, login):
    c = login("finance")
    page = submit(c, "/admin/budgetitem/new/", item_data(app, code="T-AMT-ZH", amount="-1"))
    assert "金额不能为负数。" in field_errors(page, "amount")
    assert count(app, BudgetItem, BudgetItem.code == "T-AMT-ZH") == 0


def test_valid_item_is_saved_with_the_exact_amount(app, finance):
    token = csrf_from(finance.get("/admin/budgetitem/new/").text)
    response = finance.post("/admin/budgetitem/new/", data={
        "csrf_token": token, **item_data(app, code="T-OK-1", amount="1,234,567.89")})
    assert response.status_code == 302
    amount = scalar(app, select(BudgetItem.amount).where(BudgetItem.code == "T-OK-1"))
    assert amount == Decimal("1234567.89")


def test_duplicate_code_in_the_same_year_is_refused_on_the_code_field(app, finance):
    existing = scalar(app, select(BudgetItem.code).where(
        BudgetItem.fiscal_year_id == year_id(app)).limit(1))
    before = count(app, BudgetItem)
    page = submit(finance, "/admin/budgetitem/new/", item_data(app, code=existing))
    assert f'The Code "{existing}" is already in use in this Fiscal year.' in \
        field_errors(page, "code")
    assert count(app, BudgetItem) == before


def test_same_code_in_another_year_is_allowed(app, finance):
    # the code of a 2026 item of a project that ran in 2025 too (the project library's code)
    with app.app_context():
        existing, org = db.session.execute(
            select(BudgetItem.code, BudgetItem.org_unit_id).join(Project)
            .where(BudgetItem.fiscal_year_id == year_id(app), Project.start_year <= 2025,
                   BudgetItem.code.not_in(select(BudgetItem.code).where(
                       BudgetItem.fiscal_year_id == year_id(app, 2025)))).limit(1)).one()
    token = csrf_from(finance.get("/admin/budgetitem/new/").text)
    response = finance.post("/admin/budgetitem/new/", data={
        "csrf_token": token, **item_data(app, code=existing, org_unit=org,
                                         fiscal_year=year_id(app, 2025))})
    assert response.status_code == 302
    assert count(app, BudgetItem, BudgetItem.code == existing) == 2


def test_purchase_of_services_without_contractor_is_refused_on_contractor(app, finance):
    page = submit(finance, "/admin/budgetitem/new/", item_data(
        app, code="T-POS-1", is_purchase_of_services="y", contractor="  "))
    assert "A purchase-of-services item needs its contractor." in field_errors(page, "contractor")
    assert count(app, BudgetItem, BudgetItem.code == "T-POS-1") == 0


def test_every_error_is_shown_at_once(app, finance):
    page = submit(finance, "/admin/budgetitem/new/", item_data(
        app, code="T-POS-2", amount="-1", is_purchase_of_services="y"))
    assert "The amount cannot be negative." in field_errors(page, "amount")
    assert "A purchase-of-services item needs its contractor." in field_errors(page, "contractor")
    assert count(app, BudgetItem, BudgetItem.code == "T-POS-2") == 0


def test_the_empty_form_shows_no_errors(finance):
    page = finance.get("/admin/budgetitem/new/").text
    assert not field_errors(page, "contractor") and not field_errors(page, "amount")


def test_unknown_org_unit_id_is_not_a_valid_choice(app, finance):
    page = submit(finance, "/admin/budgetitem/new/", item_data(
        app, code="T-ORG-1", org_unit="987654"))
    assert "Not a valid choice" in field_errors(page, "org_unit")
    assert count(app, BudgetItem, BudgetItem.code == "T-ORG-1") == 0


def test_org_unit_outside_a_departments_scope_is_not_a_valid_choice(app, login):
    c = login("dept01")
    c.get("/lang/en")
    page = submit(c, "/admin/budgetitem/new/", item_data(
        app, code="T-ORG-2", org_unit=org_id(app, "D02U01")))
    assert "Not a valid choice" in field_errors(page, "org_unit")
    assert count(app, BudgetItem, BudgetItem.code == "T-ORG-2") == 0


def test_unknown_kind_is_refused(app, finance):
    page = submit(finance, "/admin/budgetitem/new/", item_data(app, code="T-KIND", kind="bogus"))
    assert field_errors(page, "kind")
    assert count(app, BudgetItem, BudgetItem.code == "T-KIND") == 0


# --- optimistic locking -----------------------------------------------------------------------

def test_stale_edit_is_refused_and_the_newer_data_kept(app, finance, login):
    token = csrf_from(finance.get("/admin/budgetitem/new/").text)
    finance.post("/admin/budgetitem/new/", data={
        "csrf_token": token, **item_data(app, code="T-VER-1", amount="100.00")})
    item_id = scalar(app, select(BudgetItem.id).where(BudgetItem.code == "T-VER-1"))
    url = f"/admin/budgetitem/edit/?id={item_id}"

    stale_page = finance.get(url).text  # Alice opens the form …
    stale_version = re.search(r'name="version"[^>]*value="(\d+)"', stale_page).group(1)

    other = login("finance")  # … Bob saves first
    response = other.post(url, data={"csrf_token": csrf_from(other.get(url).text),
                                     **item_data(app, code="T-VER-1", amount="200.00"),
                                     "version": stale_version})
    assert response.status_code == 302

    page = finance.post(url, data={"csrf_token": csrf_from(stale_page),
                                   **item_data(app, code="T-VER-1", amount="300.00"),
                                   "version": stale_version})
    assert "Someone else changed this record" in flashes(page.text)
    assert scalar(app, select(BudgetItem.amount).where(BudgetItem.id == item_id)) == \
        Decimal("200.00")

    # a fresh form saves, and each save moves the version on
    fresh = finance.get(url).text
    version = re.search(r'name="version"[^>]*value="(\d+)"', fresh).group(1)
    assert int(version) == int(stale_version) + 1
    response = finance.post(url, data={"csrf_token": csrf_from(fresh),
                                       **item_data(app, code="T-VER-1", amount="300.00"),
                                       "version": version})
    assert response.status_code == 302
    assert scalar(app, select(BudgetItem.version).where(BudgetItem.id == item_id)) == \
        int(version) + 1


# --- org units --------------------------------------------------------------------------------

def org_data(**overrides) -> dict:
    data = {"code": "T-OU-1", "name": "测试机构", "kind": "department", "active": "y"}
    data.update(overrides)
    return data


def test_child_under_the_wrong_kind_of_parent_is_refused_on_parent(app, finance):
    before = count(app, OrgUnit)
    page = submit(finance, "/admin/orgunit/new/", org_data(parent=org_id(app, "D01U01")))
    assert "A Budget department cannot be placed under Budget unit." in \
        field_errors(page, "parent")
    assert count(app, OrgUnit) == before


def test_wrong_parent_message_is_chinese_by_default(app, login):
    c = login("finance")
    page = submit(c, "/admin/orgunit/new/", org_data(parent=org_id(app, "D01U01")))
    assert "“预算部门”不能设在“预算单位”之下。" in field_errors(page, "parent")


def test_department_without_parent_is_refused(app, finance):
    page = submit(finance, "/admin/orgunit/new/", org_data(code="T-OU-2"))
    assert "A Budget department cannot be placed under nothing." in field_errors(page, "parent")
    assert count(app, OrgUnit, OrgUnit.code == "T-OU-2") == 0


def test_unknown_parent_id_is_not_a_valid_choice(app, finance):
    page = submit(finance, "/admin/orgunit/new/", org_data(code="T-OU-3", parent="987654"))
    assert "Not a valid choice" in field_errors(page, "parent")
    assert count(app, OrgUnit, OrgUnit.code == "T-OU-3") == 0


def test_duplicate_org_code_is_refused_on_the_code_field(app, finance):
    before = count(app, OrgUnit)
    page = submit(finance, "/admin/orgunit/new/", org_data(code="D01", parent=org_id(app, "CZJ")))
    assert 'The Code "D01" is already in use.' in field_errors(page, "code")
    assert count(app, OrgUnit) == before


def test_org_unit_cannot_move_under_its_own_subtree(app, finance):
    dept = org_id(app, "D02")
    url = f"/admin/orgunit/edit/?id={dept}"
    page = submit(finance, url, org_data(code="D02", name="x", parent=org_id(app, "D02U01")))
    assert field_errors(page, "parent")  # a unit is no parent for a department
    parent = scalar(app, select(OrgUnit.parent_id).where(OrgUnit.id == dept))
    assert parent == org_id(app, "CZJ")


def test_kind_change_that_strands_the_children_is_refused_on_kind(app, finance):
    dept = org_id(app, "D03")
    page = submit(finance, f"/admin/orgunit/edit/?id={dept}",
                  org_data(code="D03", name="x", kind="town", parent=org_id(app, "CZJ")))
    assert "The org units under this one cannot stay under a Town." in field_errors(page, "kind")
    assert scalar(app, select(OrgUnit.kind).where(OrgUnit.id == dept)) == "department"


def test_org_unit_in_use_is_not_deleted(app, finance):
    dept = org_id(app, "D04")
    token = csrf_from(finance.get("/admin/orgunit/").text)
    response = finance.post("/admin/orgunit/delete/", data={"csrf_token": token, "id": dept},
                            follow_redirects=True)
    assert "still has org units, users or budget items" in flashes(response.text)
    assert count(app, OrgUnit, OrgUnit.id == dept) == 1


# --- users ------------------------------------------------------------------------------------

def user_data(app, **overrides) -> dict:
    role = scalar(app, select(Role.id).where(Role.name == "unit_user"))
    data = {"username": "t_user_1", "full_name": "测试用户", "email": "", "role": role,
            "org_unit": org_id(app, "D01U01"), "active": "y", "locale": "__None",
            "new_password": "a-long-password-1"}
    data.update(overrides)
    return data


def test_duplicate_username_is_refused_on_the_username_field(app, finance):
    before = count(app, User)
    page = submit(finance, "/admin/user/new/", user_data(app, username="dept01"))
    assert 'The Username "dept01" is already in use.' in field_errors(page, "username")
    assert count(app, User) == before


def test_duplicate_username_with_spaces_is_still_a_duplicate(app, finance):
    page = submit(finance, "/admin/user/new/", user_data(app, username=" dept01 "))
    assert 'The Username "dept01" is already in use.' in field_errors(page, "username")


def test_only_the_finance_bureau_grants_the_finance_role(app, login):
    from core.models import RolePermission

    with app.app_context():
        dept_role = db.session.scalar(select(Role.id).where(Role.name == "dept_admin"))
        grant = RolePermission(role_id=dept_role, permission="user.create")
        db.session.add(grant)
        db.session.commit()
        grant_id = grant.id
    try:
        c = login("dept01")
        c.get("/lang/en")
        finance_role = scalar(app, select(Role.id).where(Role.name == "finance_admin"))
        page = submit(c, "/admin/user/new/", user_data(
            app, username="t_escalate", role=finance_role, org_unit=org_id(app, "D01")))
        assert "Only the finance bureau can grant that role." in field_errors(page, "role")
        assert count(app, User, User.username == "t_escalate") == 0
    finally:
        with app.app_context():
            db.session.delete(db.session.get(RolePermission, grant_id))
            db.session.commit()


def test_new_user_without_password_is_refused_on_the_password_field(app, finance):
    page = submit(finance, "/admin/user/new/", user_data(app, username="t_nopw", new_password=""))
    assert "A new user needs a password." in field_errors(page, "new_password")
    assert count(app, User, User.username == "t_nopw") == 0


def test_user_with_unknown_org_unit_is_refused(app, finance):
    page = submit(finance, "/admin/user/new/", user_data(app, username="t_org", org_unit="987654"))
    assert "Not a valid choice" in field_errors(page, "org_unit")
    assert count(app, User, User.username == "t_org") == 0


def test_bad_email_and_username_characters_are_refused(app, finance):
    page = submit(finance, "/admin/user/new/",
                  user_data(app, username="bad name", email="not-an-email"))
    assert field_errors(page, "username")
    assert "Not a valid email address." in field_errors(page, "email")
    assert count(app, User, User.username == "bad name") == 0


# --- roles and fiscal years (inline lists) ----------------------------------------------------

def test_same_permission_twice_in_a_role_is_refused(app, finance):
    viewer = scalar(app, select(Role.id).where(Role.name == "viewer"))
    before = count(app, Role.permissions.property.mapper.class_)
    page = submit(finance, f"/admin/role/edit/?id={viewer}", {
        "name": "viewer",
        "permissions-0-permission": "budget_item.view",
        "permissions-1-permission": "budget_item.view",
    })
    assert "This permission is listed twice." in " ".join(
        field_errors(page, "permissions-1-permission"))
    assert count(app, Role.permissions.property.mapper.class_) == before


def test_unknown_permission_is_refused(app, finance):
    page = submit(finance, "/admin/role/new/", {
        "name": "t_role", "permissions-0-permission": "everything.please"})
    assert field_errors(page, "permissions-0-permission")
    assert count(app, Role, Role.name == "t_role") == 0


def test_a_new_role_is_saved_with_its_permissions(app, finance):
    from core.models import RolePermission

    token = csrf_from(finance.get("/admin/role/new/").text)
    response = finance.post("/admin/role/new/", data={
        "csrf_token": token, "name": "t_role_ok",
        "permissions-0-permission": "budget_item.view",
        "permissions-1-permission": "org_unit.view"})
    assert response.status_code == 302
    role = scalar(app, select(Role.id).where(Role.name == "t_role_ok"))
    with app.app_context():
        granted = set(db.session.scalars(
            select(RolePermission.permission).where(RolePermission.role_id == role)))
    assert granted == {"budget_item.view", "org_unit.view"}


def test_two_deadlines_for_one_stage_are_refused(app, finance):
    page = submit(finance, "/admin/fiscalyear/new/", {
        "year": "2031", "name": "2031年度", "status": "open",
        "deadlines-0-stage": "targets", "deadlines-0-due": "2030-11-30",
        "deadlines-1-stage": "targets", "deadlines-1-due": "2030-12-31",
    })
    assert "This stage already has a deadline in this year." in \
        field_errors(page, "deadlines-1-stage")
    assert count(app, FiscalYear, FiscalYear.year == 2031) == 0
    assert count(app, StageDeadline, StageDeadline.due == date(2030, 12, 31)) == 0


def test_duplicate_or_absurd_year_is_refused(app, finance):
    page = submit(finance, "/admin/fiscalyear/new/", {"year": "2026", "status": "open"})
    assert 'The Year "2026" is already in use.' in field_errors(page, "year")
    page = submit(finance, "/admin/fiscalyear/new/", {"year": "1850", "status": "open"})
    assert field_errors(page, "year")
    assert count(app, FiscalYear, FiscalYear.year == 1850) == 0


def test_an_expert_cannot_be_put_in_an_org_unit(app, finance):
    """An expert inside the bureau's org unit would see everything: refused, nothing saved."""
    expert = scalar(app, select(Role.id).where(Role.name == "expert"))
    before = count(app, User)
    page = submit(finance, "/admin/user/new/", user_data(
        app, username="t_expert_org", role=expert, org_unit=org_id(app, "CZJ")))
    assert "belong to no org unit" in " ".join(field_errors(page, "org_unit"))
    assert count(app, User) == before


def test_an_expert_given_an_org_unit_anyway_has_no_org_scope(app):
    """Defence in depth: even if the data says otherwise, the scope ignores it."""
    from core.scope import principal_for

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "expert01"))
        user.org_unit_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "CZJ"))
        db.session.flush()
        with app.test_request_context():
            principal = principal_for(user)
        db.session.rollback()
    assert not principal.sees_everything and principal.org_ids == frozenset()


# --- Flask-Admin's own messages ---------------------------------------------------------------

def test_failed_create_and_save_are_flashed_in_chinese_by_default(app, login):
    """Flask-Admin 2.2 ships an admin.mo older than its admin.po: these two were English."""
    c = login("finance")
    page = submit(c, "/admin/budgetitem/new/", item_data(app, code="T-FLASH-ZH", amount="-1"))
    assert "创建记录失败。" in flashes(page)
    assert "Failed to create record." not in flashes(page)
    assert count(app, BudgetItem, BudgetItem.code == "T-FLASH-ZH") == 0

    item_id = scalar(app, select(BudgetItem.id).where(BudgetItem.code != "T-FLASH-ZH")
                     .order_by(BudgetItem.id).limit(1))
    url = f"/admin/budgetitem/edit/?id={item_id}"
    page = c.get(url).text
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    response = c.post(url, data={"csrf_token": csrf_from(page), "version": version,
                                 **item_data(app, code="T-FLASH-ZH", amount="-1")})
    assert response.status_code == 200
    assert "保存记录失败。" in flashes(response.text)


def test_failed_create_stays_english_in_english(app, finance):
    page = submit(finance, "/admin/budgetitem/new/", item_data(app, code="T-FLASH-EN", amount="-1"))
    assert "Failed to create record." in flashes(page)


# --- refusing a post with every problem -------------------------------------------------------

def test_flash_problems_undoes_the_unsaved_work_and_flashes_every_problem_in_order(app):
    from flask import get_flashed_messages
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l

    from core.services.scoring import Problem
    from core.web.forms import flash_problems

    with app.test_request_context(), force_locale("zh_Hans_CN"):
        db.session.add(OrgUnit(code="T-FLASH-PROBLEMS", name="不应保存", kind="department"))
        flash_problems([Problem("weight", "权重之和须为 100"), "期末目标不能为空",
                        _l("Approve")])
        assert not db.session.new
        assert get_flashed_messages(with_categories=True) == [
            ("error", "weight: 权重之和须为 100"), ("error", "期末目标不能为空"),
            ("error", "审核通过")]
    assert count(app, OrgUnit, OrgUnit.code == "T-FLASH-PROBLEMS") == 0
