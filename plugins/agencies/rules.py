"""The checks an engagement must pass before it is approved.

"Budget first" (先有预算、后购买服务): an engagement is approved only when it
names the approved budget line that pays the fee (``budget_reference``) and
that line's amount available for it (``budget_amount``) is at least the
contract amount.

Conflict of interest (回避), with the look-back of ``AGENCY_CONFLICT_YEARS``
(default 3) years counted back from the engagement's start date:

- the agency did consulting or audit work (an approved engagement of that
  kind) for a unit whose items this engagement assesses, ending within the
  look-back;
- a team member worked for an assessed unit, its department, or the
  commissioning party, ending within the look-back (or still does);
- the same agency holds the pre-assessment and an evaluation (or
  re-evaluation) of the same budget item;
- the agency is restricted or banned.

Other plugins add reasons through ``jixiao_engagement_checks``; all reasons are
shown together and approval is refused while any stands.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core.contracts import EngagementView
from core.extensions import db
from core.models import BudgetItem, OrgUnit, State
from core.scope import unscoped
from core.web.admin.display import enum_label
from plugins.agencies.models import (
    Agency,
    AgencyStatus,
    Engagement,
    StaffEmployment,
    WorkKind,
    engagement_item,
)

ASSESSMENTS = {WorkKind.PRE_ASSESSMENT, WorkKind.EVALUATION, WorkKind.RE_EVALUATION,
               WorkKind.TARGET_REVIEW, WorkKind.MONITORING}
EVALUATIONS = {WorkKind.EVALUATION, WorkKind.RE_EVALUATION}
RELATED_SERVICES = {WorkKind.CONSULTING, WorkKind.AUDIT}


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def budget_problem(eng: Engagement) -> str | None:
    if not (eng.budget_reference or "").strip() or eng.budget_amount is None:
        return _("Budget first: name the approved budget line and its amount that pay the "
                 "fee before the engagement is approved.")
    if eng.contract_amount is not None and eng.budget_amount < eng.contract_amount:
        return _("Budget first: the contract amount %(fee)s exceeds the budgeted amount "
                 "%(budget)s.", fee=f"{eng.contract_amount:,.2f}",
                 budget=f"{eng.budget_amount:,.2f}")
    return None


def conflict_reasons(eng: EngagementView) -> list[str]:
    """The built-in conflict-of-interest reasons (empty: none), read outside the row scope
    (``approval_problems`` runs the checks so): they look at every unit's engagements."""
    reasons: list[str] = []
    years = int(current_app.config["AGENCY_CONFLICT_YEARS"])
    since = years_before(eng.start_on or date.today(), years)
    kind = WorkKind(eng.kind)
    session = db.session
    agency = session.get(Agency, eng.agency_id)
    if agency is not None and agency.status != AgencyStatus.ACTIVE:
        reasons.append(_("The agency %(agency)s is %(status)s: %(note)s",
                         agency=agency.name, status=enum_label(agency.status),
                         note=agency.status_note or "-"))
    item_ids = list(eng.budget_item_ids)
    units = set(session.scalars(select(BudgetItem.org_unit_id).where(
        BudgetItem.id.in_(item_ids)))) if item_ids else set()
    if kind in ASSESSMENTS and units:
        earlier = session.execute(
            select(Engagement.code, Engagement.kind, OrgUnit.name).distinct()
            .join(engagement_item, engagement_item.c.engagement_id == Engagement.id)
            .join(BudgetItem, BudgetItem.id == engagement_item.c.budget_item_id)
            .join(OrgUnit, OrgUnit.id == BudgetItem.org_unit_id)
            .where(Engagement.agency_id == eng.agency_id,
                   Engagement.kind.in_(RELATED_SERVICES),
                   Engagement.state == State.APPROVED,
                   Engagement.id != eng.id,
                   Engagement.end_on >= since,
                   BudgetItem.org_unit_id.in_(units))).all()
        for code, earlier_kind, unit in earlier:
            reasons.append(_("The agency did %(kind)s work for %(unit)s within %(years)s "
                             "years (engagement %(code)s).", kind=enum_label(earlier_kind),
                             unit=unit, years=years, code=code))
    related = set(units)
    for unit in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(units))):
        if unit.parent_id:
            related.add(unit.parent_id)
    related.add(eng.org_unit_id)
    names = {s.id: s.name for s in eng.team}
    if names:
        rows = session.execute(
            select(StaffEmployment, OrgUnit.name)
            .join(OrgUnit, OrgUnit.id == StaffEmployment.org_unit_id)
            .where(StaffEmployment.staff_id.in_(names),
                   StaffEmployment.org_unit_id.in_(related),
                   (StaffEmployment.end_on.is_(None)) | (StaffEmployment.end_on >= since))
        ).all()
        for job, unit in rows:
            reasons.append(_("Team member %(name)s worked at %(unit)s within %(years)s "
                             "years.", name=names[job.staff_id], unit=unit, years=years))
    if item_ids and kind in (EVALUATIONS | {WorkKind.PRE_ASSESSMENT}):
        other = EVALUATIONS if kind == WorkKind.PRE_ASSESSMENT else {WorkKind.PRE_ASSESSMENT}
        clashes = session.execute(
            select(Engagement.code, BudgetItem.code).distinct()
            .join(engagement_item, engagement_item.c.engagement_id == Engagement.id)
            .join(BudgetItem, BudgetItem.id == engagement_item.c.budget_item_id)
            .where(Engagement.agency_id == eng.agency_id, Engagement.kind.in_(other),
                   Engagement.state.in_((State.APPROVED, State.SUBMITTED)),
                   Engagement.id != eng.id,
                   BudgetItem.id.in_(item_ids))).all()
        for code, item in clashes:
            reasons.append(_("The agency cannot do both the pre-assessment and the "
                             "evaluation of item %(item)s (engagement %(code)s).",
                             item=item, code=code))
    return reasons


def approval_problems(eng: Engagement) -> list[str]:
    """Every reason the engagement may not be approved now: budget first, then conflicts."""
    from plugins.agencies.contracts import view_of
    from plugins.agencies.hookspecs import engagement_checks

    problems: list[str] = []
    budget = budget_problem(eng)
    if budget:
        problems.append(budget)
    # the checks judge the whole engagement (not the part the caller's scope shows) against
    # every unit's engagements and every agency's record
    with unscoped():
        problems.extend(str(p) for p in engagement_checks(view_of(eng)))
    return problems
