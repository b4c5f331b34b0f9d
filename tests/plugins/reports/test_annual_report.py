"""The annual report on the demo data: every figure equals an SQL count written here.

The counts below read the tables directly (plain SQL, the same on SQLite and
PostgreSQL), not the plugins' code, and say in words what each figure of the
report counts. The page shows them with their links, the Word document contains
them, a disabled plugin's section vanishes, and only the finance bureau opens it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO

import pytest
from docx import Document
from sqlalchemy import text

from core.extensions import db
from core.plugins import hooks
from tests.support import do_login

YEAR = 2025
_ITEMS = ("FROM budget_item b JOIN fiscal_year f ON f.id = b.fiscal_year_id "
          "WHERE f.year = :y")
_APPROVED_SHEET = ("EXISTS (SELECT 1 FROM target_sheet t WHERE t.budget_item_id = b.id "
                   "AND t.state = 'APPROVED')")
_TARGETED = ("SELECT DISTINCT t.budget_item_id FROM target_sheet t JOIN fiscal_year f "
             "ON f.id = t.fiscal_year_id WHERE f.year = :y AND t.state = 'APPROVED'")
_TOWN_ITEMS = (" AND b.org_unit_id IN (SELECT o.id FROM org_unit o JOIN org_unit town "
               "ON o.path LIKE town.path || '%' WHERE town.kind = 'TOWN')")
_PRE = ("SELECT p.id, b.amount FROM preassessment p JOIN budget_item b "
        "ON b.id = p.budget_item_id JOIN fiscal_year f ON f.id = p.fiscal_year_id "
        "WHERE f.year = :next")  # made in the year for the next year's budget
_RECORDS = ("SELECT r.id, r.budget FROM monitoring_record r JOIN monitoring_round m "
            "ON m.id = r.round_id JOIN fiscal_year f ON f.id = m.fiscal_year_id WHERE f.year = :y")
_KEY = ("SELECT k.id, k.amount FROM key_evaluation k JOIN fiscal_year f "
        "ON f.id = k.fiscal_year_id WHERE f.year = :y AND k.finalized_at IS NOT NULL")
_ENTRIES = ("SELECT e.id, e.amount FROM catalogue_entry e JOIN catalogue c "
            "ON c.id = e.catalogue_id WHERE c.state = 'APPROVED' AND c.cycle_start <= :y "
            "AND c.cycle_start + c.cycle_years > :y")
_PUBLISHED = ("SELECT p.id, p.amount FROM publication p WHERE p.fiscal_year = :y "
              "AND p.published_at IS NOT NULL")
_ENGAGEMENTS = ("FROM engagement e WHERE e.state = 'APPROVED' "
                "AND e.start_on BETWEEN :first AND :last")
_RATINGS = "SELECT r.id, r.amount FROM agency_rating r WHERE r.year = :y AND r.status = 'PUBLISHED'"

#: figure key → (its count and amount, the whole it covers) as SQL; None: no amount / whole
EXPECTED = {
    "preassessment.all": (_PRE, None),
    "preassessment.key": (_PRE + " AND p.is_key", None),
    "preassessment.supported": (_PRE + " AND p.conclusion IN ('SUPPORT', 'ADJUST')", None),
    "targets.items": (f"SELECT b.id, b.amount {_ITEMS} AND {_APPROVED_SHEET}",
                      f"SELECT b.id, b.amount {_ITEMS}"),
    "targets.department_overall": (
        f"SELECT b.id, b.amount {_ITEMS} AND b.kind = 'DEPARTMENT_OVERALL' AND {_APPROVED_SHEET}",
        f"SELECT b.id, b.amount {_ITEMS} AND b.kind = 'DEPARTMENT_OVERALL'"),
    "targets.towns": (f"SELECT b.id, b.amount {_ITEMS}{_TOWN_ITEMS} AND {_APPROVED_SHEET}",
                      f"SELECT b.id, b.amount {_ITEMS}{_TOWN_ITEMS}"),
    "monitoring.items": (
        f"SELECT x.budget_item_id, NULL FROM ({_TARGETED}) x WHERE EXISTS (SELECT 1 FROM "
        "monitoring_record r WHERE r.budget_item_id = x.budget_item_id AND r.state = 'APPROVED')",
        f"SELECT x.budget_item_id, NULL FROM ({_TARGETED}) x"),
    **{f"monitoring.light_{name}": (f"{_RECORDS} AND r.light = {light}", _RECORDS)
       for name, light in (("green", 1), ("yellow", 2), ("red", 3), ("pending", 0))},
    "evaluation.self": (
        "SELECT s.id, s.budget FROM self_evaluation s JOIN fiscal_year f "
        "ON f.id = s.fiscal_year_id WHERE f.year = :y AND s.finalized_at IS NOT NULL",
        f"SELECT x.budget_item_id, NULL FROM ({_TARGETED}) x"),
    "evaluation.department_key": (_KEY + " AND k.kind = 'department_key'", None),
    "evaluation.finance_key": (_KEY + " AND k.kind = 'finance_key'", None),
    **{f"evaluation.finance_key.{obj}": (
        _KEY + f" AND k.kind = 'finance_key' AND k.object_kind = '{obj}'", None)
       for obj in ("project", "policy", "department")},
    "evaluation.re_evaluation": ("SELECT r.id, NULL FROM re_evaluation r JOIN fiscal_year f "
                                 "ON f.id = r.fiscal_year_id WHERE f.year = :y", None),
    "evaluation.re_evaluation_samples": (
        "SELECT s.id, NULL FROM re_evaluation_sample s JOIN re_evaluation r "
        "ON r.id = s.re_evaluation_id JOIN fiscal_year f ON f.id = r.fiscal_year_id "
        "WHERE f.year = :y", None),
    "catalogue.entries": (_ENTRIES, None),
    "catalogue.covered": (_ENTRIES + " AND EXISTS (SELECT 1 FROM catalogue_coverage v "
                          "WHERE v.entry_id = e.id AND v.fiscal_year <= :y)", _ENTRIES),
    "disclosure.item_targets": (_PUBLISHED + " AND p.kind = 'ITEM_TARGETS'",
                                f"SELECT b.id, b.amount {_ITEMS} AND b.kind = 'PROJECT'"),
    "disclosure.policy_pilot": (_PUBLISHED + " AND p.kind = 'POLICY_PILOT'", None),
    "disclosure.evaluation_result": (_PUBLISHED + " AND p.kind = 'EVALUATION_RESULT'", None),
    "agencies.engagements": (f"SELECT e.id, e.contract_amount {_ENGAGEMENTS}", None),
    "agencies.agencies": (f"SELECT DISTINCT e.agency_id, NULL {_ENGAGEMENTS}", None),
    "agency_scoring.rated": (_RATINGS, None),
    **{f"agency_scoring.{grade}": (_RATINGS + f" AND r.grade = '{grade}'", _RATINGS)
       for grade in ("excellent", "good", "fair", "poor")},
}
#: figures that state no amount (counts of records, departments, agencies, coverage)
NO_AMOUNT = {"monitoring.items", "evaluation.re_evaluation", "evaluation.re_evaluation_samples",
             "agencies.agencies", "agency_scoring.rated", "agency_scoring.excellent",
             "agency_scoring.good", "agency_scoring.fair", "agency_scoring.poor"}


def _count(sql: str) -> tuple[int, Decimal]:
    params = {"y": YEAR, "next": YEAR + 1, "first": f"{YEAR}-01-01", "last": f"{YEAR}-12-31"}
    rows = {key: amount for key, amount in db.session.execute(text(sql), params)}
    return len(rows), sum((Decimal(str(a)) for a in rows.values() if a is not None),
                          Decimal("0.00"))


def _expected(key: str) -> tuple[int, Decimal | None, int | None]:
    sql, whole_sql = EXPECTED[key]
    count, amount = _count(sql)
    return (count, None if key in NO_AMOUNT else amount,
            None if whole_sql is None else _count(whole_sql)[0])


@dataclass(frozen=True)
class Shown:
    key: str
    label: str  # as the reader sees it
    count: int
    amount: Decimal | None
    of: int | None
    share: Decimal | None
    link: str


def report_as(app, username: str) -> list[Shown]:
    """The annual report's figures as ``username`` gets them (their row scope)."""
    from flask_login import login_user

    from core.models import User
    from plugins.reports.annual import annual_report

    with app.test_request_context():
        login_user(db.session.scalar(db.select(User).where(User.username == username)))
        return [Shown(f.key, str(f.label), f.count, f.amount, f.of, f.share, f.link)
                for f in annual_report(YEAR).figures]


@pytest.fixture
def finance_report(app):
    return report_as(app, "finance")


def test_every_figure_is_the_count_of_what_it_says(app, finance_report):
    figures = {f.key: f for f in finance_report}
    with app.app_context():
        expected = {key: _expected(key) for key in EXPECTED}
    # a figure whose whole is empty (towns without items, a year without ratings) is left
    # out of the report; every other one is there with the independent count
    shown = {key for key, (_c, _a, whole) in expected.items() if whole != 0}
    assert set(figures) == shown - {k for k in shown if k.startswith("catalogue.")
                                    and expected["catalogue.entries"][0] == 0} \
        - {k for k in shown if k.startswith("agency_scoring.")
           and expected["agency_scoring.rated"][0] == 0}
    for key, figure in figures.items():
        count, amount, whole = expected[key]
        assert (figure.count, figure.of) == (count, whole), key
        if amount is not None:
            assert figure.amount == amount, key
    # the demo data gives the figures something to count
    assert figures["targets.items"].count > 0 and figures["evaluation.self"].count > 0
    assert figures["evaluation.finance_key"].count == sum(
        figures[f"evaluation.finance_key.{o}"].count for o in ("project", "policy", "department"))


def test_the_page_and_the_word_document_show_every_figure(app, login, finance_report):
    client = login("finance")
    page = client.get(f"/admin/reports/annual/?year={YEAR}")
    assert page.status_code == 200
    html = page.text
    assert f"{YEAR} 年全面实施预算绩效管理情况的说明" in html
    for figure in finance_report:
        assert f'href="{figure.link}"' in html, figure.key
    assert "Pre-assessments" not in html and "yuan" not in html  # Chinese throughout
    doc = client.get(f"/admin/reports/annual/docx?year={YEAR}")
    assert doc.status_code == 200
    assert doc.headers["Content-Disposition"].endswith(f"annual-report-{YEAR}.docx")
    word = Document(BytesIO(doc.data))
    texts = [p.text for p in word.paragraphs]
    cells = [[c.text for c in row.cells] for t in word.tables for row in t.rows]
    assert f"{YEAR} 年全面实施预算绩效管理情况的说明" in texts
    rows = {re.sub(r" \[\d+\]$", "", row[0]): row for row in cells}
    for figure in finance_report:
        row = rows[figure.label]
        assert row[1] == str(figure.count), figure.key
        if figure.amount is not None:
            assert row[3] == f"{figure.amount:,.2f} 元", figure.key
        if figure.of:
            assert row[2] == f"{figure.count} / {figure.of}（{figure.share}%）", figure.key
    notes = [t for t in texts if t.startswith("[")]
    assert len(notes) == len(finance_report)
    assert all("http://localhost/admin/" in n for n in notes)


def _article(html: str) -> str:
    """The report itself (without the menu)."""
    return html.split('<article', 1)[1].split("</article>", 1)[0]


def test_a_department_cannot_open_the_reports(login):
    client = login("dept01")
    assert client.get(f"/admin/reports/annual/?year={YEAR}").status_code == 403
    assert client.get(f"/admin/reports/annual/docx?year={YEAR}").status_code == 403
    assert 'href="/admin/reports/' not in client.get("/admin/").text


def test_a_disabled_plugins_section_vanishes_and_the_report_still_builds(make_app):
    off = make_app(DISABLED_PLUGINS=["monitoring", "agency_scoring"])
    client = off.test_client()
    assert do_login(client, "finance").status_code == 302
    article = _article(client.get(f"/admin/reports/annual/?year={YEAR}").text)
    assert "双监控" not in article and "预警灯" not in article and "评级" not in article
    assert "事前绩效评估" in article and "第三方机构" in article
    with off.test_request_context():
        assert "jixiao_report_figures" in {
            name for name in dir(hooks(off).pm.hook) if name.startswith("jixiao_")}
    doc = client.get(f"/admin/reports/annual/docx?year={YEAR}")
    assert doc.status_code == 200 and Document(BytesIO(doc.data)).tables


def test_the_figures_are_counted_under_the_readers_row_scope(app):
    """Were a department granted the reports, it would count its own items only."""
    own = {f.key: f for f in report_as(app, "dept01")}
    with app.app_context():
        subtree = ("SELECT o.id FROM org_unit o JOIN org_unit d ON o.path LIKE d.path || '%' "
                   "JOIN user_account u ON u.org_unit_id = d.id WHERE u.username = 'dept01'")
        items = f"SELECT b.id, b.amount {_ITEMS} AND b.org_unit_id IN ({subtree})"
        whole, _amount = _count(items)
        count, amount = _count(f"{items} AND {_APPROVED_SHEET}")
        district, _amount = _count(f"SELECT b.id, b.amount {_ITEMS}")
    assert (own["targets.items"].count, own["targets.items"].of) == (count, whole)
    assert own["targets.items"].amount == amount
    assert 0 < whole < district
