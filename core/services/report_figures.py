"""The shape of one figure in the bureau's reports (``jixiao_report_figures``).

Each stage plugin answers the reports plugin's hook with ``ReportFigure``s: what
it counts, how many, their amount and the list that shows them. The figures are
counted with ORM queries, so the reader's row scope applies (the finance bureau
counts the district, a department its own items). A figure belongs to a
*section* of the annual report (``SECTIONS``), in the order of the bureau's
report on its performance management work.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

#: the annual report's sections, in their order
SECTIONS = ("preassessment", "targets", "monitoring", "evaluation", "catalogue",
            "disclosure", "agencies")


@dataclass(frozen=True)
class ReportFigure:
    """One counted figure: ``count`` things (of ``of``, for a coverage) worth ``amount``."""

    section: str  # one of ``SECTIONS``
    key: str  # stable name within the report (``evaluation.finance_key``)
    label: Any  # what is counted, translatable (lazy string)
    count: int
    link: str  # the list that shows what is counted (a path inside the site)
    amount: Decimal | None = None  # yuan
    of: int | None = None  # the whole of a coverage figure: count of ``of``
    order: int = 0  # within the section

    @property
    def share(self) -> Decimal | None:
        """count / of in percent, to 0.1 (None without a whole or with an empty one)."""
        if not self.of:
            return None
        return (Decimal(self.count) * 100 / Decimal(self.of)).quantize(Decimal("0.1"))


def count_and_amount(stmt: Any) -> tuple[int, Decimal]:
    """Rows of (id, amount) → how many distinct ids and the sum of their amounts.

    Summed here in ``Decimal`` (one amount per id), so both databases give the same
    figure to the fen; run as an ORM statement, so the reader's row scope applies."""
    from core.extensions import db

    seen = {key: amount for key, amount in db.session.execute(stmt)}
    return len(seen), sum((Decimal(a or 0) for a in seen.values()), Decimal("0.00"))
