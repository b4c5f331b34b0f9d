"""The 5-year coverage plan and the coverage report of a catalogue.

Every entry gets a department key evaluation within the cycle. ``propose_years``
gives each entry still open a year, spreading amount and count evenly over the
cycle's remaining years: the entries already evaluated count in the year they
were evaluated, and years the department chose (``plan_adjusted``) are kept.
Greedy, largest amount first, each to the year whose share of the total amount
plus share of the total count is lowest afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import selectinload

from plugins.catalogue.models import Catalogue, CatalogueEntry

#: load options for reporting on many catalogues at once
WITH_ENTRIES = selectinload(Catalogue.entries).selectinload(CatalogueEntry.coverage)

ZERO = Decimal("0.00")


def covered_year(entry: CatalogueEntry) -> int | None:
    """The year of the first evaluation covering the entry, if any."""
    return min((c.fiscal_year for c in entry.coverage), default=None)


def propose_years(catalogue: Catalogue, this_year: int) -> int:
    """Plan every open entry; returns how many got a (new) year."""
    first = max(catalogue.cycle_start, this_year)
    years = list(range(first, catalogue.cycle_end + 1))
    if not years:
        return 0
    entries = catalogue.entries
    total_amount = sum((e.amount for e in entries), ZERO) or Decimal(1)
    total_count = Decimal(len(entries) or 1)
    amount = {y: ZERO for y in range(catalogue.cycle_start, catalogue.cycle_end + 1)}
    count = dict.fromkeys(amount, 0)
    free = []
    for entry in entries:
        year = covered_year(entry)
        if year is not None:
            entry.planned_year = year  # done: it stays where it was evaluated
        elif entry.plan_adjusted and entry.planned_year in amount:
            year = entry.planned_year
        else:
            free.append(entry)
            continue
        amount[year] = amount.get(year, ZERO) + entry.amount
        count[year] = count.get(year, 0) + 1
    changed = 0
    # ties go to a different year for each department, so small catalogues do not
    # all start in the first year
    turn = {y: (y + catalogue.org_unit_id) % len(years) for y in years}
    for entry in sorted(free, key=lambda e: (-e.amount, e.id)):
        best = min(years, key=lambda y: (
            (amount[y] + entry.amount) / total_amount + (count[y] + 1) / total_count, turn[y]))
        amount[best] += entry.amount
        count[best] += 1
        if entry.planned_year != best:
            entry.planned_year = best
            changed += 1
    return changed


@dataclass
class YearLine:
    year: int
    due: int = 0
    due_amount: Decimal = ZERO
    done: int = 0
    done_amount: Decimal = ZERO
    overdue: int = 0
    overdue_amount: Decimal = ZERO


@dataclass
class Report:
    catalogue: Catalogue
    this_year: int
    years: list[YearLine] = field(default_factory=list)
    entries: int = 0
    amount: Decimal = ZERO
    covered: int = 0
    covered_amount: Decimal = ZERO
    unplanned: int = 0
    at_risk: list[tuple[CatalogueEntry, str]] = field(default_factory=list)

    @property
    def count_share(self) -> Decimal:
        return _share(self.covered, self.entries)

    @property
    def amount_share(self) -> Decimal:
        return _share(self.covered_amount, self.amount)

    @property
    def chart_max(self) -> int:
        return max([1, *(max(y.due, y.done) for y in self.years)])


def _share(part, whole) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


#: why an entry may fall outside the cycle
OVERDUE, UNPLANNED, CYCLE_OVER = "overdue", "unplanned", "cycle_over"


def report(catalogue: Catalogue, this_year: int) -> Report:
    """Per year what is due, done and overdue; coverage so far; the entries at risk."""
    out = Report(catalogue, this_year)
    lines = {y: YearLine(y) for y in range(catalogue.cycle_start, catalogue.cycle_end + 1)}
    for entry in catalogue.entries:
        out.entries += 1
        out.amount += entry.amount
        done_in = covered_year(entry)
        planned = entry.planned_year
        if planned in lines:
            lines[planned].due += 1
            lines[planned].due_amount += entry.amount
        if done_in is not None:
            out.covered += 1
            out.covered_amount += entry.amount
            if done_in in lines:
                lines[done_in].done += 1
                lines[done_in].done_amount += entry.amount
            continue
        if planned is None:
            out.unplanned += 1
        reason = None
        if this_year > catalogue.cycle_end:
            reason = CYCLE_OVER
        elif planned is None:
            reason = UNPLANNED
        elif planned < this_year:
            reason = OVERDUE
            if planned in lines:
                lines[planned].overdue += 1
                lines[planned].overdue_amount += entry.amount
        if reason:
            out.at_risk.append((entry, reason))
    out.years = list(lines.values())
    out.at_risk.sort(key=lambda pair: (-pair[0].amount, pair[0].id))
    return out
