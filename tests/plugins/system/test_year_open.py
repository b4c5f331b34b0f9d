"""Opening a year (``flask jixiao year open``): deadlines a year on, the continuing projects'
items, their approved targets as drafts to edit, and the catalogue's cycle going on.

Runs on a database of its own (the demo, small scale): a new open year would change what
every other test sees as the current year.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, Project, ProjectStatus
from core.plugins import hookimpl, hooks
from plugins.catalogue.models import CatalogueEntry
from plugins.targets.models import TargetIndicator, TargetSheet
from tests.conftest import _make_database
from tests.support import do_login, evaluation_result, migrate_and_seed, registered


@pytest.fixture(scope="module")
def own_app(make_app, tmp_path_factory):
    databases = _make_database(tmp_path_factory)
    app = make_app(SQLALCHEMY_DATABASE_URI=next(databases))
    migrate_and_seed(app)
    yield app
    with app.app_context():
        db.engine.dispose()
    next(databases, None)


def year_open(app, year: int):
    return app.test_cli_runner().invoke(args=["jixiao", "year", "open", str(year)])


def items_of(year: int) -> dict[str, BudgetItem]:
    return {b.code: b for b in db.session.scalars(
        select(BudgetItem).join(FiscalYear).where(FiscalYear.year == year))}


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (FiscalYear, BudgetItem, TargetSheet, TargetIndicator, Project))


def test_a_year_opens_only_after_the_year_before_it(own_app):
    result = year_open(own_app, 2030)
    assert result.exit_code == 1 and "2029" in result.output
    with own_app.app_context():
        assert db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2030)) is None


def test_opening_carries_deadlines_projects_and_targets_and_twice_changes_nothing(own_app):
    with own_app.app_context():
        last = items_of(2026)
        requested = next(b for b in last.values() if b.project.end_year is None)
        requested.project.request_year, requested.project.request_amount = 2027, \
            Decimal("123456.78")
        ended = next(b for b in last.values() if b.project.end_year is not None)
        ended.project.end_year = 2026
        approved = {s.budget_item.code: len(s.indicators) for s in db.session.scalars(
            select(TargetSheet).join(FiscalYear).where(FiscalYear.year == 2026,
                                                       TargetSheet.state == "approved"))}
        old_deadlines = {d.stage: d.due for d in db.session.scalar(
            select(FiscalYear).where(FiscalYear.year == 2026)).deadlines}
        db.session.commit()
        continuing = {c for c, b in last.items() if (b.project.end_year or 2027) >= 2027}
        requested_code, ended_code = requested.code, ended.code
        other = next(c for c in sorted(continuing) if c != requested_code)
        other_amount, other_project = last[other].amount, last[other].project_id

    result = year_open(own_app, 2027)

    assert result.exit_code == 0, result.output
    with own_app.app_context():
        fy = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2027))
        assert fy.status == "open" and fy.name == "2027年度"
        assert {d.stage: d.due for d in fy.deadlines} == {
            stage: date(due.year + 1, due.month, due.day) for stage, due in old_deadlines.items()}
        new = items_of(2027)
        assert set(new) == continuing and ended_code not in new
        assert new[requested_code].amount == Decimal("123456.78")
        assert new[other].amount == other_amount
        assert new[other].project_id == other_project and not new[other].is_new
        assert new[other].project.status in (ProjectStatus.CONTINUING, ProjectStatus.ENDING)
        sheets = {s.budget_item.code: s for s in db.session.scalars(
            select(TargetSheet).join(FiscalYear).where(FiscalYear.year == 2027))}
        assert set(sheets) == set(approved) & continuing and sheets
        for code, sheet in sheets.items():
            assert sheet.state == "draft" and sheet.carried_from_id is not None
            assert len(sheet.indicators) == approved[code]
        before = counts()

    again = year_open(own_app, 2027)

    assert again.exit_code == 0, again.output
    assert "0 deadlines and 0 budget items" in again.output
    with own_app.app_context():
        assert counts() == before


def test_a_later_catalogue_entry_is_covered_by_that_years_key_evaluation_of_its_project(
        own_app):
    with own_app.app_context():
        new = items_of(2027)
        entry = next(e for e in db.session.scalars(select(CatalogueEntry).order_by(
            CatalogueEntry.id)) if e.budget_item.code in new and not e.coverage)
        entry.planned_year = 2027
        db.session.commit()
        later = new[entry.budget_item.code]
        stranger = next(b for c, b in sorted(new.items()) if b.project_id != later.project_id)
        hooks(own_app).evaluation_finalized(evaluation=evaluation_result(
            [stranger.id], year=2027, org_unit_id=stranger.org_unit_id))
        db.session.commit()
        db.session.refresh(entry)
        assert entry.coverage == []  # another project's evaluation does not count
        hooks(own_app).evaluation_finalized(evaluation=evaluation_result(
            [later.id], year=2027, org_unit_id=later.org_unit_id))
        db.session.commit()
        db.session.refresh(entry)
        assert [c.fiscal_year for c in entry.coverage] == [2027]


class Listener:
    """Another plugin hearing ``jixiao_year_opened``."""

    def __init__(self):
        self.heard: list[tuple[int, int]] = []

    @hookimpl
    def jixiao_year_opened(self, previous, year):
        self.heard.append((previous.year, year.year))


def test_with_the_targets_plugin_off_the_year_still_opens_and_others_hear_it(own_app):
    from plugins import targets

    hooks(own_app).unregister(name="targets")
    try:
        with registered(own_app, Listener()) as listener:
            result = year_open(own_app, 2028)
    finally:
        hooks(own_app).register(targets, name="targets")
    assert result.exit_code == 0, result.output
    assert listener.heard == [(2027, 2028)]
    with own_app.app_context():
        assert items_of(2028) and not db.session.scalars(select(TargetSheet).join(
            FiscalYear).where(FiscalYear.year == 2028)).first()


def test_finance_opens_a_year_on_the_fiscal_years_page_and_a_department_cannot(own_app):
    from tests.support import csrf_from

    finance, dept = own_app.test_client(), own_app.test_client()
    assert do_login(finance, "finance").status_code == 302
    assert do_login(dept, "dept01").status_code == 302
    page = finance.get("/admin/fiscalyear/").text
    assert "jixiao-open-year" in page
    token = csrf_from(page)
    own_token = csrf_from(dept.get("/admin/budgetitem/new/").text)
    refused = dept.post("/admin/fiscalyear/open/", data={"year": "2029", "csrf_token": own_token})
    assert refused.status_code == 403
    done = finance.post("/admin/fiscalyear/open/", data={"year": "2029", "csrf_token": token},
                        follow_redirects=True)
    assert "2029" in done.text
    with own_app.app_context():
        assert items_of(2029)
    refused = finance.post("/admin/fiscalyear/open/", data={"year": "2035", "csrf_token": token},
                           follow_redirects=True).text
    assert "2034" in refused  # the reason: the year before does not exist
    with own_app.app_context():
        assert db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2035)) is None
