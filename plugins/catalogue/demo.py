"""Demo data: a catalogue for every department for the open year's cycle.

Most are approved by the bureau, a few are confirmed by their department and
waiting, a few are drafts; every catalogue has a proposed plan, and coverage is
caught up from the evaluation results that exist (the evaluation plugin's demo).
"""

from __future__ import annotations

from sqlalchemy import select

from core.models import FiscalYear, OrgUnit, State
from plugins.catalogue import planner, service


def seed_catalogues(session, rng, scale: str) -> None:
    year = session.scalar(select(FiscalYear).where(FiscalYear.status == "open")
                          .order_by(FiscalYear.year.desc()).limit(1))
    if year is None:
        return
    depts = session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(service.OWNER_KINDS))
                            .order_by(OrgUnit.code)).all()
    for dept in depts:
        catalogue = service.new_catalogue(dept, year.year)
        service.propose(catalogue)
        if not catalogue.entries:
            session.delete(catalogue)
            continue
        service.refresh_coverage(catalogue)
        session.flush()
        session.expire(catalogue, ["entries"])
        planner.propose_years(catalogue, year.year)
        roll = rng.random()
        if roll < 0.7:
            catalogue.state, catalogue.review_level = State.APPROVED, 1
        elif roll < 0.85:
            catalogue.state, catalogue.review_level = State.SUBMITTED, 0
    session.flush()
