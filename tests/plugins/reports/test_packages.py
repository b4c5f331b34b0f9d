"""The packages for the people's congress on the demo data, checked against SQL here:
the key projects of the budget draft with their approved targets, and the finished
self-evaluations and key evaluations that go with the final accounts."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from docx import Document
from sqlalchemy import text

from core.extensions import db

YEAR = 2025


def _word(client, doc: str) -> tuple[list[str], list[list[str]]]:
    r = client.get(f"/admin/reports/{doc}/docx?year={YEAR}")
    assert r.status_code == 200
    word = Document(BytesIO(r.data))
    return ([p.text for p in word.paragraphs],
            [[c.text for c in row.cells] for t in word.tables for row in t.rows])


def test_the_budget_package_lists_the_key_projects_and_their_targets(app, login):
    with app.app_context():
        key = db.session.execute(text(
            "SELECT b.id, b.code, b.name FROM budget_item b JOIN fiscal_year f "
            "ON f.id = b.fiscal_year_id WHERE f.year = :y AND b.kind IN ('PROJECT', 'POLICY') "
            "AND b.amount >= 5000000"), {"y": YEAR}).all()
        targeted = {row.id: row for row in key if db.session.scalar(text(
            "SELECT COUNT(*) FROM target_sheet WHERE budget_item_id = :i AND state = 'APPROVED'"),
            {"i": row.id})}
        indicators = db.session.execute(text(
            "SELECT i.name, i.target_value FROM target_indicator i JOIN target_sheet t "
            "ON t.id = i.sheet_id WHERE t.state = 'APPROVED' AND t.budget_item_id = :i"),
            {"i": next(iter(targeted))}).all()
    assert key and targeted, "the demo data has key projects with approved targets"
    client = login("finance")
    html = client.get(f"/admin/reports/budget/?year={YEAR}").text
    paragraphs, cells = _word(client, "budget")
    assert f"{YEAR} 年预算草案重点项目绩效目标" in paragraphs
    assert f"共 {len(key)} 个" in " ".join(paragraphs)
    for row in key:
        assert any(p.endswith(f"{row.name}（{row.code}）") for p in paragraphs), row.code
        assert row.code in html
    assert paragraphs.count("尚无已批复的绩效目标。") == len(key) - len(targeted)
    for name, value in indicators:
        assert any(r[2] == name and value in r[3] for r in cells), name


def test_the_accounts_package_has_the_results_and_the_key_evaluation_reports(app, login):
    with app.app_context():
        own = db.session.execute(text(
            "SELECT s.score, s.grade FROM self_evaluation s JOIN fiscal_year f "
            "ON f.id = s.fiscal_year_id WHERE f.year = :y AND s.finalized_at IS NOT NULL"),
            {"y": YEAR}).all()
        reports = db.session.execute(text(
            "SELECT k.title, k.amount FROM key_evaluation k JOIN fiscal_year f "
            "ON f.id = k.fiscal_year_id WHERE f.year = :y AND k.finalized_at IS NOT NULL"),
            {"y": YEAR}).all()
    assert own and reports
    paragraphs, cells = _word(login("finance"), "accounts")
    assert f"共完成单位自评 {len(own)} 个" in " ".join(paragraphs)
    excellent = sum(1 for _score, grade in own if grade == "excellent")
    assert f"优 {excellent}" in " ".join(paragraphs)
    assert len(cells) == len(own) + 1  # the header and one row per self-evaluation
    assert sorted(Decimal(r[3]) for r in cells[1:]) == sorted(
        Decimal(str(s)).quantize(Decimal("0.01")) for s, _g in own)
    for title, amount in reports:
        assert any(p.endswith(title) for p in paragraphs), title
        assert any(f"{Decimal(str(amount)):,.2f} 元" in p for p in paragraphs), title


def test_the_reports_page_offers_each_document_as_page_and_word(login):
    html = login("finance").get(f"/admin/reports/?year={YEAR}").text
    for doc in ("annual", "budget", "accounts"):
        assert f'href="/admin/reports/{doc}/?year={YEAR}"' in html
        assert f'href="/admin/reports/{doc}/docx?year={YEAR}"' in html
    assert "报告" in html and "Word 文档" in html
