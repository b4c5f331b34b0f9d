"""The catalogue figures of the bureau's annual report (``jixiao_report_figures``):
the entries of the approved catalogues whose cycle includes the year, and how many a key
evaluation covered by the end of the year (the 5-year coverage so far)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from core.models import State
from core.services.report_figures import ReportFigure, count_and_amount
from plugins.catalogue.models import Catalogue, CatalogueEntry, CoverageRecord


def report_figures(year: int) -> list[ReportFigure]:
    entries = (select(CatalogueEntry.id, CatalogueEntry.amount)
               .join(Catalogue, Catalogue.id == CatalogueEntry.catalogue_id)
               .where(Catalogue.state == State.APPROVED, Catalogue.cycle_start <= year,
                      Catalogue.cycle_start + Catalogue.cycle_years > year))
    whole, amount = count_and_amount(entries)
    if not whole:
        return []
    covered, covered_amount = count_and_amount(entries.where(exists().where(
        CoverageRecord.entry_id == CatalogueEntry.id, CoverageRecord.fiscal_year <= year)))
    return [
        ReportFigure("catalogue", "catalogue.entries",
                     _l("Items in the departments' key evaluation catalogues"), whole,
                     url_for("catalogueentry.index_view"), amount=amount),
        ReportFigure("catalogue", "catalogue.covered",
                     _l("Catalogue items evaluated within their 5-year cycle so far"), covered,
                     url_for("cataloguereport.index"), amount=covered_amount, of=whole,
                     order=1),
    ]
