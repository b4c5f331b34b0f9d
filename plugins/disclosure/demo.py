"""Demo data: publications for both years, most published, a policy pilot, some pending.

Results come from the evaluation plugin's demo (caught up through the contract);
targets from the targets plugin's approved sheets. The snapshot is written by
the same code as an approval in the admin.
"""

from __future__ import annotations

from sqlalchemy import select

from core.models import BudgetItem, FiscalYear, ItemKind, State
from core.plugins import hooks
from plugins.disclosure import service
from plugins.disclosure.models import Publication, PublicationKind


def seed_disclosure(session, rng, scale: str) -> None:
    for fy in session.scalars(select(FiscalYear).order_by(FiscalYear.year)):
        service.prepare(fy.year)
        with_targets = set(hooks().approved_targets(year=fy.year))
        policy = session.scalar(select(BudgetItem).where(
            BudgetItem.fiscal_year_id == fy.id, BudgetItem.kind == ItemKind.POLICY,
            BudgetItem.id.in_(with_targets or {0})).order_by(BudgetItem.amount.desc()).limit(1))
        if policy is not None:
            service.new_publication(PublicationKind.POLICY_PILOT, item=policy)
        session.flush()
        share = 0.9 if fy.status != "open" else 0.6
        for pub in session.scalars(select(Publication).where(Publication.fiscal_year == fy.year)
                                   .order_by(Publication.id)):
            roll = rng.random()
            if roll < share:
                service.snapshot(pub)
                pub.state, pub.review_level = State.APPROVED, 1
            elif roll < share + 0.15:
                pub.state = State.SUBMITTED
        session.flush()
