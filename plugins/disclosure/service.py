"""Publishing: preparing publications, the approval snapshot, stored results, the check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from core.contracts import EvaluationResult
from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgKind, OrgUnit, State, utcnow
from core.permissions import FINANCE
from core.plugins import hooks
from core.scope import unscoped
from core.workflow import Workflow, WorkflowError
from plugins.disclosure.models import (
    Publication,
    PublicationKind,
    PublishedIndicator,
    StoredResult,
)
from plugins.disclosure.rules import rules_for_year

#: anyone on the staff proposes a publication; the finance bureau publishes it
WORKFLOW = Workflow("publication", chain=FINANCE)
EDITABLE = {State.DRAFT, State.RETURNED}
OWNER_KINDS = (OrgKind.DEPARTMENT, OrgKind.TOWN_DEPARTMENT)
ZERO = Decimal("0.00")
TARGET_KINDS = (PublicationKind.ITEM_TARGETS, PublicationKind.POLICY_PILOT)


def org_map() -> dict[int, OrgUnit]:
    # the department above a unit lies outside a unit user's scope
    with unscoped() as session:
        return {o.id: o for o in session.scalars(select(OrgUnit))}


def owner_of(org_id: int, orgs: dict[int, OrgUnit]) -> OrgUnit | None:
    """The department (or town department) an org unit belongs to."""
    node = orgs.get(org_id)
    while node is not None and node.kind not in OWNER_KINDS:
        node = orgs.get(node.parent_id) if node.parent_id else None
    return node


def is_editable(pub: Publication) -> bool:
    return State(pub.state or State.DRAFT) in EDITABLE


# --- stored results (from the evaluation plugin) -----------------------------------------

def store_result(result: EvaluationResult) -> StoredResult:
    """Keep (or refresh) a finalized evaluation."""
    # a listener: the user who finalized the evaluation need not see its stored copy
    with unscoped() as session:
        row = session.scalar(select(StoredResult).where(
            StoredResult.kind == result.kind, StoredResult.evaluation_id == result.id))
        if row is None:
            row = StoredResult(kind=result.kind, evaluation_id=result.id)
            session.add(row)
        row.org_unit_id = result.org_unit_id
        row.kind, row.object_kind = result.kind, result.object_kind
        row.fiscal_year, row.title = result.fiscal_year, result.title
        row.budget_item_ids = list(result.budget_item_ids)
        row.amount, row.score, row.grade = result.amount, result.score, result.grade
        row.summary = result.summary or ""
        row.finalized_at = result.finalized_at.replace(tzinfo=None)
        session.flush()
    return row


def sync_results(year: int) -> int:
    """Store the year's results the evaluation plugin answers (catch-up); returns how many."""
    found = hooks().evaluation_results(year=year)
    for result in found:
        store_result(result)
    return len(found)


# --- preparing publications ---------------------------------------------------------------

def placement(item: BudgetItem | None, result: StoredResult | None,
              orgs: dict[int, OrgUnit] | None = None) -> dict:
    """Where a publication about ``item`` or ``result`` belongs (owner, department, year)."""
    orgs = orgs if orgs is not None else org_map()
    if item is not None:
        org_id, year, subject = item.org_unit_id, item.fiscal_year.year, f"item:{item.id}"
    else:
        org_id, year, subject = result.org_unit_id, result.fiscal_year, f"result:{result.id}"
    dept = owner_of(org_id, orgs) or orgs[org_id]
    return {"org_unit_id": org_id, "department_id": dept.id, "fiscal_year": year,
            "subject": subject}


def new_publication(kind: PublicationKind, *, item: BudgetItem | None = None,
                    result: StoredResult | None = None,
                    orgs: dict[int, OrgUnit] | None = None) -> Publication:
    pub = Publication(kind=kind, budget_item_id=item.id if item is not None else None,
                      result_id=result.id if result is not None else None,
                      state=State.DRAFT, review_level=0, **placement(item, result, orgs))
    db.session.add(pub)
    return pub


def _existing(year: int) -> set[str]:
    return set(db.session.scalars(select(Publication.subject).where(
        Publication.fiscal_year == year, Publication.kind != PublicationKind.POLICY_PILOT)))


def _items_to_prepare(year: int, existing: set[str]) -> list[BudgetItem]:
    """The year's items in the disclosure scope with approved targets and no publication."""
    rules = rules_for_year(year)
    item_ids = list(hooks().approved_targets(year=year))
    found = []
    for start in range(0, len(item_ids), 500):
        found += [item for item in db.session.scalars(select(BudgetItem).where(
            BudgetItem.id.in_(item_ids[start:start + 500])).order_by(BudgetItem.code))
            if str(item.kind) in rules.scope_kinds and f"item:{item.id}" not in existing]
    return found


def planned(year: int) -> tuple[int, int]:
    """What ``prepare(year)`` would add: (target publications, result publications)."""
    existing = _existing(year)
    stored = {(str(kind), evaluation_id): row_id for kind, evaluation_id, row_id in
              db.session.execute(select(StoredResult.kind, StoredResult.evaluation_id,
                                        StoredResult.id).where(StoredResult.fiscal_year == year))}
    keys = set(stored) | {(str(r.kind), r.id) for r in hooks().evaluation_results(year=year)}
    results = sum(1 for k in keys if k not in stored or f"result:{stored[k]}" not in existing)
    return len(_items_to_prepare(year, existing)), results


def prepare(year: int, progress: Callable[[int, int], None] | None = None) -> int:
    """Draft publications for the year: targets of every item in the disclosure scope that
    has approved targets, and every stored result. Calls ``progress(done, total)`` as it
    goes; returns how many were added."""
    sync_results(year)
    existing = _existing(year)
    orgs = org_map()
    items = _items_to_prepare(year, existing)
    results = [r for r in db.session.scalars(select(StoredResult).where(
        StoredResult.fiscal_year == year).order_by(StoredResult.id))
        if f"result:{r.id}" not in existing]
    total = len(items) + len(results)
    for done, item in enumerate(items, start=1):
        new_publication(PublicationKind.ITEM_TARGETS, item=item, orgs=orgs)
        if progress is not None:
            progress(done, total)
    for done, result in enumerate(results, start=len(items) + 1):
        new_publication(PublicationKind.EVALUATION_RESULT, result=result, orgs=orgs)
        if progress is not None:
            progress(done, total)
    db.session.flush()
    return total


def prepare_job(progress: Callable[[int, int], None], year: int) -> str:
    """The background job of "prepare publications": its summary."""
    added = prepare(year, progress)
    return gettext("%(n)s publications were prepared for %(year)s.", n=added, year=year)


# --- the approval snapshot ----------------------------------------------------------------

def on_transition(pub: Publication, old: State, new: State) -> None:
    """Write the public snapshot when a publication is approved; clear it when reopened."""
    if new == State.APPROVED:
        snapshot(pub)
    elif old == State.APPROVED:
        clear(pub)


def snapshot(pub: Publication) -> None:
    if pub.kind in TARGET_KINDS:
        item = pub.budget_item
        targets = hooks().approved_targets(item_ids=[item.id]).get(item.id)
        if targets is None:
            raise WorkflowError(_l("%(item)s has no approved targets to publish.",
                                   item=item.code))
        pub.item_code, pub.title, pub.amount, pub.goal = \
            item.code, item.name, item.amount, targets.goal
        pub.indicators = [PublishedIndicator(
            org_unit_id=pub.org_unit_id, position=n, level1=i.level1, level2=i.level2,
            name=i.name, comparator=i.comparator, target_value=i.target_value, unit=i.unit)
            for n, i in enumerate(targets.indicators, start=1)]
    else:
        result = pub.result
        codes = []
        if result.budget_item_ids:
            # the evaluated items may belong to units outside the publisher's scope
            with unscoped() as session:
                codes = list(session.scalars(select(BudgetItem.code).where(
                    BudgetItem.id.in_(result.budget_item_ids)).order_by(BudgetItem.code)))
        pub.item_code = ", ".join(codes)[:200] or None
        pub.title, pub.amount, pub.evaluation_kind = result.title, result.amount, result.kind
        pub.score, pub.grade, pub.summary = result.score, result.grade, result.summary
    pub.published_at = utcnow()


def preview(pub: Publication):
    """What approving ``pub`` would publish now: the item's approved targets
    (``core.contracts.ItemTargets``, None when there are none) or the stored result."""
    if pub.kind in TARGET_KINDS:
        return hooks().approved_targets(item_ids=[pub.budget_item_id]).get(pub.budget_item_id)
    return pub.result


def clear(pub: Publication) -> None:
    db.session.execute(delete(PublishedIndicator).where(
        PublishedIndicator.publication_id == pub.id))
    db.session.expire(pub, ["indicators"])
    for name in ("published_at", "item_code", "title", "amount", "goal", "evaluation_kind",
                 "score", "grade", "summary"):
        setattr(pub, name, None)


# --- the disclosure check -------------------------------------------------------------------

@dataclass
class CheckLine:
    department: OrgUnit
    expenditure: Decimal = ZERO
    published: Decimal = ZERO
    #: stored results not published yet that would close the gap, with the amount each adds
    results_to_publish: list[tuple[StoredResult, Decimal]] = field(default_factory=list)
    #: when publishing every result is not enough: the largest items without any result
    items_to_evaluate: list[BudgetItem] = field(default_factory=list)

    @property
    def share(self) -> Decimal:
        if not self.expenditure:
            return Decimal("100.0")
        return (self.published * 100 / self.expenditure).quantize(Decimal("0.1"))


def check(year: int) -> tuple[list[CheckLine], Decimal]:
    """Per department: the share of its project expenditure covered by published results,
    and, below the threshold, what would close the gap. Runs under the caller's scope."""
    rules = rules_for_year(year)
    threshold = rules.result_share
    orgs = org_map()
    items = db.session.scalars(
        select(BudgetItem).join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
        .where(FiscalYear.year == year, BudgetItem.kind.in_(rules.expenditure_kinds))).all()
    by_id = {i.id: i for i in items}
    lines: dict[int, CheckLine] = {}
    item_dept: dict[int, int] = {}
    for item in items:
        dept = owner_of(item.org_unit_id, orgs)
        if dept is None:
            continue
        item_dept[item.id] = dept.id
        lines.setdefault(dept.id, CheckLine(dept)).expenditure += item.amount
    published_ids: set[int] = set()
    results = db.session.scalars(select(StoredResult).where(
        StoredResult.fiscal_year == year).order_by(StoredResult.id)).all()
    published_results = set(db.session.scalars(select(Publication.result_id).where(
        Publication.fiscal_year == year, Publication.state == State.APPROVED,
        Publication.kind == PublicationKind.EVALUATION_RESULT)))
    for result in results:
        if result.id in published_results:
            published_ids.update(i for i in result.budget_item_ids or () if i in item_dept)
    for item_id in published_ids:
        lines[item_dept[item_id]].published += by_id[item_id].amount
    for line in lines.values():
        _gap_closers(line, threshold, results, published_results, published_ids, by_id,
                     item_dept)
    ordered = sorted(lines.values(), key=lambda c: (c.department.kind != OrgKind.DEPARTMENT,
                                                    c.department.code))
    return ordered, threshold


def _gap_closers(line: CheckLine, threshold: Decimal, results, published_results,
                 covered: set[int], by_id, item_dept) -> None:
    need = line.expenditure * threshold / 100 - line.published
    if need <= 0:
        return
    dept_id = line.department.id
    taken = set(covered)
    options = []
    for result in results:
        if result.id in published_results:
            continue
        new = {i for i in result.budget_item_ids or () if i in by_id
               and item_dept.get(i) == dept_id and i not in taken}
        adds = sum((by_id[i].amount for i in new), ZERO)
        if adds > 0:
            options.append((adds, result, new))
    for _adds, result, new in sorted(options, key=lambda o: (-o[0], o[1].id)):
        if need <= 0:
            break
        fresh = new - taken
        gain = sum((by_id[i].amount for i in fresh), ZERO)
        if gain <= 0:
            continue
        line.results_to_publish.append((result, gain))
        taken |= fresh
        need -= gain
    evaluated = {i for r in results for i in r.budget_item_ids or ()}
    if need > 0:
        for item in sorted((by_id[i] for i, d in item_dept.items()
                            if d == dept_id and i not in taken and i not in evaluated),
                           key=lambda i: (-i.amount, i.code)):
            if need <= 0:
                break
            line.items_to_evaluate.append(item)
            need -= item.amount
