"""The fiscal year of a given year number, for code that is handed the year (the 待办 of
every stage): the selected year (``FiscalYear.current()``, read once a request) when it
is that one, so the stages share one row and one load of its deadlines."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import FiscalYear


def fiscal_year(year: int) -> FiscalYear | None:
    current = FiscalYear.current()
    if current is not None and current.year == year:
        return current
    return db.session.scalar(select(FiscalYear).where(FiscalYear.year == year))
