"""The project library (项目库): a project keeps its code across years, its page lists its
items by year, and bad input — a code used twice, an item put under another department's
project or under a project that has ended — is refused with nothing written."""

from __future__ import annotations

import io
import secrets
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, ItemKind, OrgUnit, Project, ProjectStatus
from tests.core.web.test_admin_forms import field_errors, item_data, submit
from tests.support import csrf_from, workbook

HEADERS = ["项目编码", "项目名称", "主管单位编码", "类型", "状态", "起始年度", "终止年度"]


@pytest.fixture
def finance(login):
    c = login("finance")
    c.get("/lang/en")
    return c


def new_project(app, org_code="D01U01", start=2025, end=None) -> tuple[int, str]:
    code = f"P-{secrets.token_hex(4).upper()}"
    with app.app_context():
        org = db.session.scalar(select(OrgUnit).where(OrgUnit.code == org_code))
        project = Project(code=code, name="测试项目库项目", org_unit=org, kind=ItemKind.PROJECT,
                          status=ProjectStatus.CONTINUING, start_year=start, end_year=end)
        db.session.add(project)
        db.session.commit()
        return project.id, code


def items_of_project(app, project_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(BudgetItem.project_id == project_id))


def test_a_project_code_used_twice_is_refused(app, finance):
    _pid, code = new_project(app)
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Project))
        org = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "D01U01"))
    page = submit(finance, "/admin/project/new/", {
        "code": code, "name": "重复", "org_unit": org, "kind": "project", "status": "new",
        "start_year": "2026"})
    assert field_errors(page, "code")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Project)) == before


def test_an_item_under_another_departments_project_is_refused(app, finance):
    pid, code = new_project(app, org_code="D02")
    page = submit(finance, "/admin/budgetitem/new/",
                  item_data(app, code=f"{code}-X", project=pid))
    assert "another department" in " ".join(field_errors(page, "project"))
    assert items_of_project(app, pid) == 0


def test_an_item_for_a_year_after_the_project_ended_is_refused(app, finance):
    pid, code = new_project(app, end=2025)
    page = submit(finance, "/admin/budgetitem/new/", item_data(app, code=code, project=pid))
    assert "ended in 2025" in " ".join(field_errors(page, "project"))
    assert items_of_project(app, pid) == 0


def test_items_of_two_years_share_the_project_whose_page_lists_them_by_year(app, finance):
    pid, code = new_project(app)
    for year in (2025, 2026):
        with app.app_context():
            fy = db.session.scalar(select(FiscalYear.id).where(FiscalYear.year == year))
        token = csrf_from(finance.get("/admin/budgetitem/new/").text)
        done = finance.post("/admin/budgetitem/new/", data={
            "csrf_token": token, **item_data(app, code=code, fiscal_year=fy, project=pid,
                                             amount=f"{year}.00")})
        assert done.status_code == 302
    page = finance.get(f"/admin/project/details/?id={pid}").text
    table = page.split("jixiao-project-items", 1)[1]
    assert table.index("2026") < table.index("2025")  # newest year first
    assert "2,026.00" in table and "2,025.00" in table


def test_an_item_without_a_project_starts_one_of_its_code(app, finance):
    code = f"NEW-{secrets.token_hex(3).upper()}"
    token = csrf_from(finance.get("/admin/budgetitem/new/").text)
    assert finance.post("/admin/budgetitem/new/", data={
        "csrf_token": token, **item_data(app, code=code)}).status_code == 302
    with app.app_context():
        item = db.session.scalar(select(BudgetItem).where(BudgetItem.code == code))
        assert item.project.code == code and item.project.start_year == 2026
        assert item.project.org_unit_id == item.org_unit_id


def test_projects_round_trip_through_excel_and_a_bad_file_writes_nothing(app, login):
    finance = login("finance")  # in Chinese, as the file's labels are
    pid, code = new_project(app)
    download = load_workbook(io.BytesIO(finance.get("/admin/project/xlsx/").data))["项目库"]
    rows = {row[0]: list(row) for row in download.iter_rows(values_only=True)}
    assert rows["项目编码"] == HEADERS
    assert rows[code] == [code, "测试项目库项目", "D01U01", "项目", "延续", 2025, None]
    token = csrf_from(finance.get("/admin/project/import/").text)
    fresh = f"P-{secrets.token_hex(4).upper()}"
    good = workbook([[code, "改名后的项目", "D01U01", "项目", "延续", 2025, 2030],
                     [fresh, "新项目", "D01U01", "项目", "新增", 2026, None]],
                    HEADERS, sheet="项目库")
    done = finance.post("/admin/project/import/", data={
        "csrf_token": token, "file": (io.BytesIO(good), "p.xlsx")})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Project, pid).name == "改名后的项目"
        assert db.session.get(Project, pid).end_year == 2030
        assert db.session.scalar(select(Project).where(Project.code == fresh)) is not None
    twice = f"P-{secrets.token_hex(4).upper()}"
    bad = workbook([[twice, "一", "D01U01", "项目", "新增", 2026, None],
                    [twice, "二", "D01U01", "项目", "新增", 2026, None],
                    [code, "又改名", "D01U01", "项目", "延续", 2025, None]],
                   HEADERS, sheet="项目库")
    page = finance.post("/admin/project/import/", data={
        "csrf_token": token, "file": (io.BytesIO(bad), "p.xlsx")}).text
    assert "jixiao-import-errors" in page and "<td>3</td><td>A " in page  # row 3, column A
    with app.app_context():
        assert db.session.scalar(select(Project).where(Project.code == twice)) is None
        assert db.session.get(Project, pid).name == "改名后的项目"


def test_a_project_with_items_cannot_end_before_them(app, finance):
    pid, code = new_project(app, start=2026)
    with app.app_context():
        project = db.session.get(Project, pid)
        fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        db.session.add(BudgetItem(code=code, name="x", fiscal_year=fy, project=project,
                                  org_unit_id=project.org_unit_id, amount=Decimal("1.00")))
        db.session.commit()
    token = csrf_from(finance.get(f"/admin/project/edit/?id={pid}").text)
    page = finance.post(f"/admin/project/edit/?id={pid}", data={
        "csrf_token": token, "code": code, "name": "x", "org_unit": project_org(app, pid),
        "kind": "project", "status": "ending", "start_year": "2024", "end_year": "2025",
        "version": "1"}).text
    assert "2026" in " ".join(field_errors(page, "end_year"))
    with app.app_context():
        assert db.session.get(Project, pid).end_year is None


def project_org(app, pid) -> int:
    with app.app_context():
        return db.session.get(Project, pid).org_unit_id


def test_the_api_shows_a_project_with_its_items_to_its_department_only(app, token_for):
    pid, code = new_project(app, start=2025)
    with app.app_context():
        project = db.session.get(Project, pid)
        for year, amount in ((2025, "10.00"), (2026, "12.50")):
            fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == year))
            db.session.add(BudgetItem(code=code, name="x", fiscal_year=fy, project=project,
                                      org_unit_id=project.org_unit_id, amount=Decimal(amount)))
        db.session.commit()
    client = app.test_client()
    mine = client.get(f"/api/v1/projects/{pid}", headers=token_for("dept01"))
    assert mine.status_code == 200
    assert [(i["year"], i["amount"]) for i in mine.json["items"]] == [(2026, "12.50"),
                                                                     (2025, "10.00")]
    listed = client.get(f"/api/v1/projects?q={code}", headers=token_for("dept01")).json
    assert [p["code"] for p in listed["items"]] == [code]
    assert client.get(f"/api/v1/projects/{pid}", headers=token_for("dept02")).status_code == 404
