"""Coverage: the share of budget items of a year that have approved targets.

By count and by amount, per department (its units included) and per town (its
departments and units included), over the items that need targets under the
year's rule version (``TargetRules.required``: the 2021 extension adds overall
targets of district units and town departments and policy targets of towns).
Queries run through the row scope: a department sees its own lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgKind, OrgUnit, State
from plugins.targets.models import TargetSheet
from plugins.targets.rules import rules_for_year


@dataclass
class CoverageLine:
    org: str
    kind: str
    items: int = 0
    covered: int = 0
    amount: Decimal = field(default_factory=lambda: Decimal("0.00"))
    covered_amount: Decimal = field(default_factory=lambda: Decimal("0.00"))

    @property
    def count_share(self) -> Decimal:
        return _share(self.covered, self.items)

    @property
    def amount_share(self) -> Decimal:
        return _share(self.covered_amount, self.amount)


def _share(part, whole) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def coverage(year: int) -> tuple[list[CoverageLine], CoverageLine, str]:
    """(lines per department and town, the total, the rule version's code)."""
    rules = rules_for_year(year)
    orgs = {o.id: o for o in db.session.scalars(select(OrgUnit))}
    rows = db.session.execute(
        select(BudgetItem.org_unit_id, BudgetItem.kind, BudgetItem.amount, TargetSheet.state)
        .join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
        .outerjoin(TargetSheet, TargetSheet.budget_item_id == BudgetItem.id)
        .where(FiscalYear.year == year)).all()
    lines: dict[int, CoverageLine] = {}
    total = CoverageLine("", "total")
    for org_id, kind, amount, state in rows:
        org = orgs.get(org_id)
        if org is None or not rules.needs_targets(kind.value, org.kind.value):
            continue
        top = _top(org, orgs)
        if top is None:
            continue
        line = lines.setdefault(top.id, CoverageLine(top.name, top.kind.value))
        covered = state is not None and State(state) == State.APPROVED
        for target in (line, total):
            target.items += 1
            target.amount += amount
            if covered:
                target.covered += 1
                target.covered_amount += amount
    ordered = sorted(lines.values(), key=lambda c: (c.kind != OrgKind.DEPARTMENT.value, c.org))
    return ordered, total, rules.code


def _top(org: OrgUnit, orgs: dict[int, OrgUnit]) -> OrgUnit | None:
    """The department or town an org unit belongs to."""
    node = org
    while node.kind not in (OrgKind.DEPARTMENT, OrgKind.TOWN):
        parent = orgs.get(node.parent_id) if node.parent_id else None
        if parent is None:  # the top of what the user may see
            return node
        node = parent
    return node
