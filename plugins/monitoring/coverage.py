"""Coverage: per department, the share of items with targets monitored this year.

The rule (docs/domain.md, "Monitoring"): every item with approved targets has at least one
completed record (accepted by its department) in a round of the year. Items
with targets come from ``core.plugins.hooks().approved_indicator_select``; the
queries run under the row scope, so a department sees its own line. Items
never monitored are listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from core.extensions import db
from core.models import BudgetItem, OrgKind, OrgUnit, State
from core.plugins import hooks
from plugins.monitoring.models import MonitoringRecord


@dataclass
class CoverageLine:
    org: str
    items: int = 0
    monitored: int = 0

    @property
    def share(self) -> str:
        return f"{self.monitored * 100 / self.items:.1f}" if self.items else "0.0"


def coverage(year: int) -> tuple[list[CoverageLine], CoverageLine, list[tuple]]:
    """(lines per department or town, the total, the items never monitored:
    (code, name, org name, in a round but not completed))."""
    indicators = hooks().approved_indicator_select(year)
    if indicators is None:
        return [], CoverageLine(""), []
    indicators = indicators.subquery()
    # the items (an item has many indicators), each joined to its records summed up in
    # one pass: an EXISTS per item let SQLite walk every approved record for each item
    src = select(indicators.c.budget_item_id, indicators.c.org_unit_id).distinct().subquery()
    records = select(MonitoringRecord.budget_item_id, func.max(case(
        (MonitoringRecord.state == State.APPROVED, 1), else_=0)).label("done")) \
        .group_by(MonitoringRecord.budget_item_id).subquery()
    rows = db.session.execute(
        select(src.c.budget_item_id, src.c.org_unit_id, BudgetItem.code, BudgetItem.name,
               func.coalesce(records.c.done, 0) == 1, records.c.budget_item_id.is_not(None))
        .join(BudgetItem, BudgetItem.id == src.c.budget_item_id)
        .outerjoin(records, records.c.budget_item_id == src.c.budget_item_id)
        .order_by(BudgetItem.code)).all()
    orgs = {o.id: o for o in db.session.scalars(select(OrgUnit))}
    lines: dict[int, CoverageLine] = {}
    total = CoverageLine("")
    never = []
    for _item_id, org_id, code, name, done, listed in rows:
        org = orgs.get(org_id)
        top = top_org(org, orgs) if org is not None else None
        if top is None:
            continue
        line = lines.setdefault(top.id, CoverageLine(top.name))
        for target in (line, total):
            target.items += 1
            target.monitored += 1 if done else 0
        if not done:
            never.append((code, name, org.name, bool(listed)))
    return sorted(lines.values(), key=lambda c: c.org), total, never


def top_org(org: OrgUnit, orgs: dict[int, OrgUnit]) -> OrgUnit:
    """The department or town an org unit belongs to (or the top of what the user sees)."""
    node = org
    while node.kind not in (OrgKind.DEPARTMENT, OrgKind.TOWN):
        parent = orgs.get(node.parent_id) if node.parent_id else None
        if parent is None:
            return node
        node = parent
    return node
