"""The reports page: the annual report and the people's congress packages, each as a
printable page and as a Word document. Finance only (``report.view``); the figures are
counted under the reader's row scope all the same."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, request
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.models import FiscalYear
from core.web.admin.base import ScopedPage
from plugins.reports.annual import annual_report
from plugins.reports.documents import accounts_blocks, annual_blocks, budget_blocks
from plugins.reports.packages import accounts_package, budget_package
from plugins.reports.word import docx_bytes

CATEGORY = _l("Reports")
#: document name → (title, how its blocks are made for a year, file name)
DOCUMENTS = {
    "annual": (_l("Annual report on performance management"),
               lambda year: annual_blocks(annual_report(year)), "annual-report-{year}.docx"),
    "budget": (_l("Package with the budget draft: key projects' targets"),
               lambda year: budget_blocks(budget_package(year)), "budget-targets-{year}.docx"),
    "accounts": (_l("Package with the final accounts: evaluation results"),
                 lambda year: accounts_blocks(accounts_package(year)),
                 "accounts-evaluations-{year}.docx"),
}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _year() -> int:
    raw = request.args.get("year", "")
    if raw:
        if not raw.isdigit():
            abort(400)
        return int(raw)
    year = FiscalYear.current()
    return year.year if year else date.today().year


class ReportsPage(ScopedPage):
    permission = "report"

    @expose("/")
    def index(self):
        years = db.session.scalars(select(FiscalYear.year).order_by(FiscalYear.year.desc()))
        return self.render("reports/index.html", year=_year(), years=list(years),
                           documents=DOCUMENTS)

    @expose("/<doc>/")
    def document(self, doc: str):
        title, blocks, _file = self._document(doc)
        year = _year()
        return self.render("reports/document.html", title=title, doc=doc, year=year,
                           blocks=blocks(year))

    @expose("/<doc>/docx")
    def docx(self, doc: str):
        _title, blocks, file_name = self._document(doc)
        year = _year()
        body = docx_bytes(blocks(year), request.host_url)
        return Response(body, mimetype=DOCX, headers={
            "Content-Disposition": f"attachment; filename={file_name.format(year=year)}"})

    @staticmethod
    def _document(name: str):
        if name not in DOCUMENTS:
            abort(404)
        return DOCUMENTS[name]


def register(admin, db) -> None:
    admin.add_view(ReportsPage(name=_l("Reports for the bureau"), category=CATEGORY,
                               endpoint="reports", url="reports"))
