"""Coverage: the share of items with approved targets that have a finished self-evaluation.

The rule is all of them. Per department (its units included) and per town (its
departments and units included); "finished" means finalized (approved by the
department). Items with approved targets come from ``core.contracts``; the
queries run under the caller's row scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, OrgKind, OrgUnit
from core.plugins import hooks
from plugins.evaluation.models import SelfEvaluation


@dataclass
class CoverageLine:
    org: str
    kind: str
    items: int = 0
    finished: int = 0

    @property
    def share(self) -> Decimal:
        if not self.items:
            return Decimal("0.0")
        return (Decimal(self.finished) * 100 / Decimal(self.items)).quantize(Decimal("0.1"))

    @property
    def complete(self) -> bool:
        return self.finished == self.items


def coverage(year: int) -> tuple[list[CoverageLine], CoverageLine]:
    """(lines per department and town, the total)."""
    total = CoverageLine("", "total")
    stmt = hooks().approved_indicator_select(year)
    if stmt is None:
        return [], total
    sub = stmt.subquery()
    targeted = select(sub.c.budget_item_id)
    rows = db.session.execute(
        select(BudgetItem.org_unit_id, SelfEvaluation.finalized_at)
        .outerjoin(SelfEvaluation, SelfEvaluation.budget_item_id == BudgetItem.id)
        .where(BudgetItem.id.in_(targeted))).all()
    orgs = {o.id: o for o in db.session.scalars(select(OrgUnit))}
    lines: dict[int, CoverageLine] = {}
    for org_id, finalized_at in rows:
        org = orgs.get(org_id)
        top = _top(org, orgs) if org is not None else None
        if top is None:
            continue
        line = lines.setdefault(top.id, CoverageLine(top.name, top.kind.value))
        for target in (line, total):
            target.items += 1
            target.finished += finalized_at is not None
    ordered = sorted(lines.values(), key=lambda c: (c.kind != OrgKind.DEPARTMENT.value, c.org))
    return ordered, total


def _top(org: OrgUnit, orgs: dict[int, OrgUnit]) -> OrgUnit:
    """The department or town an org unit belongs to (or the top of what the user sees)."""
    node = org
    while node.kind not in (OrgKind.DEPARTMENT, OrgKind.TOWN):
        parent = orgs.get(node.parent_id) if node.parent_id else None
        if parent is None:
            return node
        node = parent
    return node
