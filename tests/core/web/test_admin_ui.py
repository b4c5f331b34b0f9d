"""Admin lists of the shared model: labels, amounts, search, filters, export, menu, dashboard."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from core.extensions import db
from core.models import BudgetItem, BudgetType, FiscalYear, OrgUnit

LIST = "/admin/budgetitem/"


def scalar(app, stmt):
    with app.app_context():
        return db.session.scalar(stmt)


def list_body(page: str) -> str:
    """The rows of a list page (after the table header)."""
    return page.split("</thead>", 1)[1].split("</table>", 1)[0]


def row_codes(page: str) -> set[str]:
    """The budget item codes shown in a list page (demo codes look like 2026-D01U01-00001)."""
    return set(re.findall(r"\b(20\d\d-[A-Z0-9]+-\d{5})\b", list_body(page)))


@pytest.fixture
def big_item(app):
    """The largest 2026 item (its amount has a thousands separator)."""
    with app.app_context():
        return db.session.execute(
            select(BudgetItem.code, BudgetItem.amount).join(FiscalYear)
            .where(FiscalYear.year == 2026).order_by(BudgetItem.amount.desc()).limit(1)).one()


def test_list_shows_chinese_labels_and_formatted_amounts(login, big_item):
    page = login("finance").get(f"{LIST}?search={big_item.code}").text
    assert row_codes(page) == {big_item.code}
    assert f"{big_item.amount:,.2f}" in page
    assert "一般公共预算" in page or "政府性基金预算" in page or "国有资本经营预算" in page
    body = list_body(page)
    assert "general_public" not in body and "GENERAL_PUBLIC" not in body


def test_org_unit_list_shows_kind_labels(login):
    page = login("finance").get("/admin/orgunit/?search=D01").text
    body = list_body(page)
    assert "预算部门" in body and "预算单位" in body
    assert "department" not in body


def test_search_finds_by_name(app, login):
    with app.app_context():
        name = db.session.scalar(select(BudgetItem.name).order_by(BudgetItem.id).limit(1))
    expected = scalar(app, select(func.count(func.distinct(BudgetItem.code)))
                      .where(BudgetItem.name.contains(name)))  # a project's items share a code
    page = login("finance").get(LIST, query_string={"search": name, "page_size": 100}).text
    assert len(row_codes(page)) == min(expected, 100)


def test_budget_type_filter_shows_only_that_type(app, login):
    from core.web.admin.base import list_url

    with app.test_request_context():
        url = list_url("budgetitem", {BudgetItem.budget_type: "STATE_CAPITAL"})
    assert "flt" in url
    page = login("finance").get(f"{url}&page_size=100").text
    codes = row_codes(page)
    expected = set(db_codes(app, BudgetItem.budget_type == BudgetType.STATE_CAPITAL))
    assert codes and codes == expected
    body = list_body(page)
    assert "一般公共预算" not in body and "国有资本经营预算" in body


def test_unknown_enum_filter_value_is_ignored_not_an_error(login):
    from core.web.admin.base import list_url

    c = login("finance")
    with c.application.test_request_context():
        url = list_url("budgetitem", {BudgetItem.budget_type: "NO_SUCH_TYPE"})
    assert c.get(url).status_code == 200


def db_codes(app, *where) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(BudgetItem.code).where(*where)))


def test_xlsx_export_has_labelled_headers_and_numeric_amounts(app, login, big_item):
    response = login("finance").get(f"{LIST}export/xlsx/?search={big_item.code}")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    header = rows[0]
    assert header[:2] == ("编码", "名称") and "金额（元）" in header
    same_code = scalar(app, select(func.count()).select_from(BudgetItem)
                       .where(BudgetItem.code == big_item.code))  # one per year of its project
    assert len(rows) == 1 + same_code
    row = next(r for r in (dict(zip(header, values, strict=True)) for values in rows[1:])
               if Decimal(str(r["金额（元）"])) == big_item.amount)
    assert row["编码"] == big_item.code
    assert Decimal(str(row["金额（元）"])) == big_item.amount
    assert row["预算类型"] in {"一般公共预算", "政府性基金预算", "国有资本经营预算"}


def test_xlsx_export_keeps_formula_like_text_as_text(app, login):
    with app.app_context():
        item = db.session.scalars(select(BudgetItem).order_by(BudgetItem.id.desc())).first()
        db.session.add(BudgetItem(
            code="T-XLSX-FORMULA", name='=HYPERLINK("http://example.com","x")',
            fiscal_year_id=item.fiscal_year_id, org_unit_id=item.org_unit_id,
            amount=Decimal("1.00")))
        db.session.commit()
    response = login("finance").get(f"{LIST}export/xlsx/?search=T-XLSX-FORMULA")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["B2"].value == '=HYPERLINK("http://example.com","x")'
    assert sheet["B2"].data_type == "s"


def test_xlsx_export_is_scoped_and_says_when_it_is_capped(app, login):
    view = next(v for v in app.extensions["jixiao_admin"]._views if v.endpoint == "budgetitem")
    in_d01 = (select(BudgetItem.code).join(OrgUnit).where(OrgUnit.path.startswith(
        select(OrgUnit.path).where(OrgUnit.code == "D01").scalar_subquery())))
    dept_total = scalar(app, select(func.count()).select_from(in_d01.subquery()))
    with app.app_context():
        d01_codes = set(db.session.scalars(in_d01))
    old = view.export_max_rows
    view.export_max_rows = 5
    try:
        c = login("dept01")
        c.get("/lang/en")
        rows = list(load_workbook(io.BytesIO(c.get(f"{LIST}export/xlsx/").data))
                    .active.iter_rows(values_only=True))
    finally:
        view.export_max_rows = old
    assert rows[0][0] == "Code"
    assert len(rows) == 1 + 5 + 1
    assert all(code in d01_codes for code, *_ in rows[1:6])
    assert rows[-1][0] == (f"Only the first 5 of {dept_total} rows are exported; "
                           "narrow the list with filters to export the rest.")


def test_english_switch_translates_the_list(login):
    c = login("finance")
    assert "金额（元）" in c.get(LIST).text
    c.get("/lang/en")
    page = c.get(LIST).text
    assert "Amount (yuan)" in page and "金额（元）" not in page
    assert "General public budget" in page


def test_menu_groups_views_by_category(login):
    finance = login("finance").get("/admin/").text.split("</nav>")[0]
    assert "基础数据" in finance and "更多" in finance and "/admin/user/" in finance
    unit = login("unit0101").get("/admin/").text.split("</nav>")[0]
    assert "基础数据" in unit and "/admin/user/" not in unit


def test_list_page_query_count_does_not_grow_with_rows(app, login):
    c = login("finance")
    statements: list[str] = []

    def count_statement(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        c.get(LIST, query_string={"page_size": 5})
        few = len(statements)
        statements.clear()
        c.get(LIST, query_string={"page_size": 100})
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert many == few  # fiscal year and org unit come in the same query, not one per row


# --- dashboard --------------------------------------------------------------------------------

def card_values(page: str) -> dict[str, str]:
    cards = re.findall(r'<div class="text-muted small">(.*?)</div>\s*<div class="h3[^"]*">(.*?)</div>',
                       page, re.S)
    return {title.strip(): value.strip() for title, value in cards}


def test_dashboard_counts_this_years_items_in_scope(app, login):
    total = scalar(app, select(func.count()).select_from(BudgetItem).join(FiscalYear)
                   .where(FiscalYear.year == 2026))
    cards = card_values(login("finance").get("/admin/").text)
    assert cards["2026 年度预算项目"] == f"{total:,}"
    dept_cards = card_values(login("dept01").get("/admin/").text)
    assert 0 < int(dept_cards["2026 年度预算项目"].replace(",", "")) < total


def test_dashboard_amounts_by_budget_type_in_ten_thousand_yuan(app, login):
    c = login("finance")
    c.get("/lang/en")
    page = c.get("/admin/").text
    with app.app_context():
        amount = db.session.scalar(
            select(func.sum(BudgetItem.amount)).join(FiscalYear)
            .where(FiscalYear.year == 2026, BudgetItem.budget_type == BudgetType.GENERAL_PUBLIC))
    wan = (Decimal(amount) / 10000).quantize(Decimal("0.01"))
    assert card_values(page)["General public budget"] == f"{wan:,.2f}"
    assert "ten thousand yuan · " in page


def test_dashboard_cards_follow_permissions(login):
    expert = card_values(login("expert01").get("/admin/").text)
    assert not any("预算项目" in title for title in expert)
    assert "机构" not in expert


def test_times_show_in_the_configured_time_zone(app, login):
    from datetime import timedelta

    from core.models import AuditLog

    c = login("finance")
    with app.app_context():
        entry = db.session.scalars(select(AuditLog).order_by(AuditLog.id).limit(1)).one()
    page = c.get(f"/admin/auditlog/details/?id={entry.id}").text
    shanghai = entry.at + timedelta(hours=8)  # Asia/Shanghai has no daylight saving time
    assert shanghai.strftime("%Y-%m-%d %H:%M:%S") in page
