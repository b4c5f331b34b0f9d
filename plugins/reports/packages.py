"""The packages the bureau sends to the people's congress (人大).

* With the budget draft: the key projects of the budget year and their approved
  performance targets. A key project is an item of kind project or policy of at least
  ``REPORTS_KEY_PROJECT_AMOUNT`` yuan (product default 5,000,000.00, the amount from
  which the bureau picks its key pre-assessments); one without approved targets is
  listed as such.
* With the final accounts: the finished self-evaluations of the year (score and
  grade) and the key evaluation reports (department and finance key evaluations,
  with their public summary).

Targets and results come from ``core.contracts`` (``approved_targets``,
``evaluation_results``): with the targets or the evaluation plugin disabled the
package says there is nothing to show. Read under the reader's row scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, ItemKind
from core.plugins import hooks

KEY_KINDS = (ItemKind.PROJECT, ItemKind.POLICY)
#: the evaluation kinds of the key evaluation reports, in the package's order
REPORT_KINDS = ("finance_key", "department_key")


def key_project_amount() -> Decimal:
    return Decimal(str(current_app.config.get("REPORTS_KEY_PROJECT_AMOUNT", "5000000.00")))


@dataclass(frozen=True)
class KeyProject:
    item: Any  # a BudgetItem row (id, code, name, kind, amount, org_unit_id)
    targets: Any  # core.contracts.ItemTargets, None without approved targets


@dataclass(frozen=True)
class BudgetPackage:
    year: int
    threshold: Decimal
    projects: tuple[KeyProject, ...]


@dataclass(frozen=True)
class AccountsPackage:
    year: int
    self_results: tuple[Any, ...]  # core.contracts.EvaluationResult of kind "self"
    key_reports: tuple[Any, ...]  # of the kinds in REPORT_KINDS

    def grade_counts(self) -> dict[str, int]:
        """Self-evaluations per grade letter (A–D)."""
        out = {letter: 0 for letter in "ABCD"}
        for result in self.self_results:
            out[result.grade] = out.get(result.grade, 0) + 1
        return out


def budget_package(year: int) -> BudgetPackage:
    threshold = key_project_amount()
    items = db.session.execute(
        select(BudgetItem.id, BudgetItem.code, BudgetItem.name, BudgetItem.kind,
               BudgetItem.amount, BudgetItem.org_unit_id)
        .join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
        .where(FiscalYear.year == year, BudgetItem.kind.in_(KEY_KINDS),
               BudgetItem.amount >= threshold)
        .order_by(BudgetItem.amount.desc(), BudgetItem.code)).all()
    targets = hooks().approved_targets(year=year, item_ids=[i.id for i in items]) \
        if items else {}
    return BudgetPackage(year, threshold,
                         tuple(KeyProject(i, targets.get(i.id)) for i in items))


def accounts_package(year: int) -> AccountsPackage:
    results = hooks().evaluation_results(year=year, kinds=["self", *REPORT_KINDS])
    own = sorted((r for r in results if r.kind == "self"), key=lambda r: (-r.score, r.title))
    reports = sorted((r for r in results if r.kind in REPORT_KINDS),
                     key=lambda r: (REPORT_KINDS.index(r.kind), r.title))
    return AccountsPackage(year, tuple(own), tuple(reports))
