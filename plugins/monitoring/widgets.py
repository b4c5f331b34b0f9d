"""The monitoring stage's cards: the selected year's latest round — its lights (each a link
to the records of that light), the reports in per department or unit, and spending
progress per department.

Queries run under the row scope: a department sees its own records, the
finance bureau the district's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Bar, Widget
from core.extensions import db
from core.models import FiscalYear
from core.permissions import can
from core.web.admin.base import list_url
from core.web.admin.progress import org_bars, org_units
from plugins.monitoring import charts, figures
from plugins.monitoring.coverage import top_org
from plugins.monitoring.models import LIGHT_LABELS, Light, MonitoringRecord, MonitoringRound

STAGE = "monitoring"
LIGHT_TONES = {Light.RED: "danger", Light.YELLOW: "warning", Light.GREEN: "success",
               Light.PENDING: "secondary"}


@dataclass
class RoundSummary:
    round: MonitoringRound
    lights: dict[int, int]
    #: (department, execution rate, expected rate), furthest behind first
    progress: list[tuple[str, Decimal, Decimal]]


def latest_round(year: FiscalYear | None = None) -> MonitoringRound | None:
    """The latest round (of ``year`` when given)."""
    stmt = select(MonitoringRound) if year is None else \
        select(MonitoringRound).where(MonitoringRound.fiscal_year_id == year.id)
    return db.session.scalars(stmt.order_by(
        MonitoringRound.cutoff.desc(), MonitoringRound.id.desc()).limit(1)).first()


def summary(rnd: MonitoringRound) -> RoundSummary:
    lights = {int(light): n for light, n in db.session.execute(
        select(MonitoringRecord.light, func.count(MonitoringRecord.id))
        .where(MonitoringRecord.round_id == rnd.id).group_by(MonitoringRecord.light))}
    orgs = org_units()
    sums: dict[int, list[Decimal]] = {}
    for org_id, spent, budget in db.session.execute(
            select(MonitoringRecord.org_unit_id, func.sum(MonitoringRecord.spent),
                   func.sum(MonitoringRecord.budget))
            .where(MonitoringRecord.round_id == rnd.id, MonitoringRecord.spent.is_not(None))
            .group_by(MonitoringRecord.org_unit_id)):
        org = orgs.get(org_id)
        if org is None:
            continue
        top = top_org(org, orgs)
        acc = sums.setdefault(top.id, [Decimal(0), Decimal(0)])
        acc[0] += Decimal(spent or 0)
        acc[1] += Decimal(budget or 0)
    expected = figures.expected_rate(rnd.period_start, rnd.cutoff)
    progress = [(orgs[org_id].name, figures.execution_rate(spent, budget) or Decimal(0), expected)
                for org_id, (spent, budget) in sums.items()]
    progress.sort(key=lambda line: (line[1] - line[2], line[0]))
    return RoundSummary(rnd, lights, progress)


def monitoring_widgets(user) -> list[Widget]:
    if not can(user, "monitoring_record.view"):
        return []
    year = FiscalYear.current()
    rnd = latest_round(year) if year is not None else None
    if rnd is None:
        return []
    data = summary(rnd)
    limits = figures.thresholds()
    of_round = ("monitoring_round.name", rnd.name)
    total = sum(data.lights.values())
    lights = tuple(Bar(str(LIGHT_LABELS[light]), data.lights.get(light, 0), total,
                       list_url("monitoringrecord", of_round,
                                ("monitoring_record.light", int(light))), LIGHT_TONES[light])
                   for light in (Light.RED, Light.YELLOW, Light.GREEN, Light.PENDING))
    reported = {org_id: (done, n) for org_id, done, n in db.session.execute(
        select(MonitoringRecord.org_unit_id,
               func.count(MonitoringRecord.id).filter(MonitoringRecord.light != Light.PENDING),
               func.count(MonitoringRecord.id))
        .where(MonitoringRecord.round_id == rnd.id).group_by(MonitoringRecord.org_unit_id))}
    due = rnd.due or year.deadline(STAGE)
    cards = [Widget(
        _("Warning lights: %(round)s", round=rnd.name),
        _("%(red)s red · %(yellow)s yellow", red=data.lights.get(Light.RED, 0),
          yellow=data.lights.get(Light.YELLOW, 0)),
        link=list_url("monitoringrecord", of_round), order=30, stage=STAGE, due=due,
        tone="danger" if data.lights.get(Light.RED) else "success", bars=lights),
        Widget(_("Reports in"), f"{sum(d for d, _n in reported.values()):,} / {total:,}",
               link=list_url("monitoringrecord", of_round), order=31, stage=STAGE,
               bars=org_bars(reported, "monitoringrecord", MonitoringRecord.org_unit_id,
                             of_round))]
    if data.progress:
        cards.append(Widget(
            _("Spending progress against time"),
            _("time elapsed %(rate)s%%", rate=data.progress[0][2]),
            charts.progress_chart(data.progress[:8], limits.spending_yellow,
                                  limits.spending_red),
            link=url_for("monitoringdashboard.index"), order=32, tone="info"))
    return cards
