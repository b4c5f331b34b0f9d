"""The agency figures of the bureau's annual report (``jixiao_report_figures``): the
approved engagements that started in the year, their contract amounts and the agencies
engaged."""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.models import State
from core.services.report_figures import ReportFigure, count_and_amount
from plugins.agencies.models import Engagement


def report_figures(year: int) -> list[ReportFigure]:
    started = (Engagement.state == State.APPROVED,
               Engagement.start_on.between(date(year, 1, 1), date(year, 12, 31)))
    count, amount = count_and_amount(
        select(Engagement.id, Engagement.contract_amount).where(*started))
    agencies, _none = count_and_amount(
        select(Engagement.agency_id, Engagement.agency_id).where(*started))
    link = url_for("engagement.index_view")
    return [ReportFigure("agencies", "agencies.engagements",
                         _l("Engagements of third-party agencies (approved, started this year)"),
                         count, link, amount=amount),
            ReportFigure("agencies", "agencies.agencies", _l("Third-party agencies engaged"),
                         agencies, url_for("agency.index_view"), order=1)]
