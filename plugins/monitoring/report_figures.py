"""The monitoring figures of the bureau's annual report (``jixiao_report_figures``):
coverage ("双监控", every item with approved targets monitored at least once) and the
warning lights of the year's records."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.models import FiscalYear
from core.services.report_figures import ReportFigure, count_and_amount
from plugins.monitoring.coverage import coverage
from plugins.monitoring.models import LIGHT_LABELS, Light, MonitoringRecord, MonitoringRound


def report_figures(year: int) -> list[ReportFigure]:
    _lines, total, _never = coverage(year)
    out = []
    if total.items:
        out.append(ReportFigure(
            "monitoring", "monitoring.items",
            _l("Items with targets monitored on both targets and spending at least once"),
            total.monitored, url_for("monitoringcoverage.index", year=year), of=total.items))
    records = (select(MonitoringRecord.id, MonitoringRecord.budget)
               .join(MonitoringRound, MonitoringRound.id == MonitoringRecord.round_id)
               .join(FiscalYear, FiscalYear.id == MonitoringRound.fiscal_year_id)
               .where(FiscalYear.year == year))
    whole, _amount = count_and_amount(records)
    for light in (Light.GREEN, Light.YELLOW, Light.RED, Light.PENDING):
        count, amount = count_and_amount(records.where(MonitoringRecord.light == light))
        out.append(ReportFigure(
            "monitoring", f"monitoring.light_{light.name.lower()}",
            _l("Monitoring records with the warning light: %(light)s",
               light=LIGHT_LABELS[light]),
            count, url_for("monitoringrecord.index_view"), amount=amount, of=whole,
            order=int(light) + 1))
    return out
