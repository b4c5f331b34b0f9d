"""Proposing catalogues, their workflow, and coverage by finalized evaluations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from core.contracts import EvaluationResult
from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgKind, OrgUnit, State
from core.permissions import ADMINS, FINANCE
from core.plugins import hooks
from core.scope import unscoped
from core.workflow import Workflow, WorkflowError
from plugins.catalogue.models import Catalogue, CatalogueEntry, CoverageRecord, EntryReason
from plugins.catalogue.rules import rules_for_year

#: the department confirms (submits), the finance bureau approves
WORKFLOW = Workflow("catalogue", chain=FINANCE, submitters=ADMINS)
EDITABLE = {State.DRAFT, State.RETURNED}
OWNER_KINDS = (OrgKind.DEPARTMENT, OrgKind.TOWN_DEPARTMENT)


def owner_of(org: OrgUnit, orgs: dict[int, OrgUnit]) -> OrgUnit | None:
    """The department (or town department) an org unit belongs to."""
    node: OrgUnit | None = org
    while node is not None and node.kind not in OWNER_KINDS:
        node = orgs.get(node.parent_id) if node.parent_id else None
    return node


def subtree_ids(dept: OrgUnit) -> list[int]:
    """The org units under ``dept`` (a caller who sees ``dept`` sees its whole subtree)."""
    return list(db.session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(dept.path))))


def is_editable(catalogue: Catalogue) -> bool:
    return State(catalogue.state or State.DRAFT) in EDITABLE


def proposals(catalogue: Catalogue) -> list[tuple[BudgetItem, EntryReason]]:
    """Items of the cycle's first budget year the rules put in the catalogue."""
    rules = rules_for_year(catalogue.cycle_start)
    items = db.session.scalars(
        select(BudgetItem).join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
        .where(FiscalYear.year == catalogue.cycle_start,
               BudgetItem.org_unit_id.in_(subtree_ids(catalogue.org_unit)))
        .order_by(BudgetItem.amount.desc(), BudgetItem.code))
    found = []
    for item in items:
        kind = str(item.kind)
        if item.is_recurring and kind in rules.recurring_kinds and \
                item.amount >= rules.recurring_threshold:
            found.append((item, EntryReason.RECURRING_LARGE))
        elif item.is_key_task and kind in rules.key_task_kinds:
            found.append((item, EntryReason.KEY_TASK))
    return found


def propose(catalogue: Catalogue) -> int:
    """Add the rule-proposed items not listed yet; returns how many were added."""
    if not is_editable(catalogue):
        raise WorkflowError(_l("The catalogue is under review or approved and cannot be "
                               "changed."))
    listed = {e.budget_item_id for e in catalogue.entries}
    added = 0
    for item, reason in proposals(catalogue):
        if item.id in listed:
            continue
        catalogue.entries.append(CatalogueEntry(
            budget_item_id=item.id, org_unit_id=item.org_unit_id, reason=reason,
            amount=item.amount))
        added += 1
    db.session.flush()
    return added


def new_catalogue(dept: OrgUnit, year: int) -> Catalogue:
    rules = rules_for_year(year)
    catalogue = Catalogue(org_unit_id=dept.id, org_unit=dept, cycle_start=year,
                          cycle_years=rules.cycle_years, rules_code=rules.code,
                          state=State.DRAFT, review_level=0)
    db.session.add(catalogue)
    db.session.flush()
    return catalogue


def record_coverage(result: EvaluationResult) -> int:
    """Store ``result`` as coverage of every catalogue entry it covers; returns how many.

    An entry is covered by a key evaluation of the same project (an item of any year of
    the cycle: the entry's own, or the project's item of the year evaluated).

    Idempotent (one record per entry and evaluation). Runs unscoped: the evaluation
    may be finalized by a user who does not see the catalogue.
    """
    if result.kind not in rules_for_year(result.fiscal_year).covering_kinds or \
            not result.budget_item_ids:
        return 0
    added = 0
    # the evaluation may be finalized by a user who does not see the catalogue
    with unscoped() as session:
        projects = select(BudgetItem.project_id).where(
            BudgetItem.id.in_(result.budget_item_ids), BudgetItem.project_id.is_not(None))
        entries = session.scalars(
            select(CatalogueEntry).join(Catalogue, Catalogue.id == CatalogueEntry.catalogue_id)
            .join(BudgetItem, BudgetItem.id == CatalogueEntry.budget_item_id)
            .where(or_(CatalogueEntry.budget_item_id.in_(result.budget_item_ids),
                       BudgetItem.project_id.in_(projects)),
                   Catalogue.cycle_start <= result.fiscal_year)).all()
        for entry in entries:
            if result.fiscal_year > entry.catalogue.cycle_end:
                continue
            exists = session.scalar(select(CoverageRecord.id).where(
                CoverageRecord.entry_id == entry.id,
                CoverageRecord.evaluation_kind == result.kind,  # ids are unique per kind
                CoverageRecord.evaluation_id == result.id))
            if exists:
                continue
            session.add(CoverageRecord(
                entry_id=entry.id, org_unit_id=entry.org_unit_id, evaluation_id=result.id,
                evaluation_kind=result.kind, fiscal_year=result.fiscal_year,
                score=result.score, grade=result.grade,
                finalized_at=result.finalized_at.replace(tzinfo=None)))
            added += 1
        session.flush()
    return added


def project_item_ids(item_ids: list[int]) -> list[int]:
    """``item_ids`` and the items of every other year of their projects."""
    projects = select(BudgetItem.project_id).where(BudgetItem.id.in_(item_ids))
    return sorted(set(item_ids) | set(db.session.scalars(
        select(BudgetItem.id).where(BudgetItem.project_id.in_(projects)))))


def refresh_coverage(catalogue: Catalogue) -> int:
    """Catch up with evaluations finalized before the items were listed."""
    ids = project_item_ids([e.budget_item_id for e in catalogue.entries])
    if not ids:
        return 0
    rules = rules_for_year(catalogue.cycle_start)
    return sum(record_coverage(r) for r in hooks().evaluation_results(
        item_ids=ids, kinds=list(rules.covering_kinds)))
