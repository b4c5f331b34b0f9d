"""A report as a list of blocks — title, headings, paragraphs, tables, notes — that the
printable page (``templates/reports/document.html``) and the Word document
(``word.py``) both render, so the two always say the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _


@dataclass(frozen=True)
class Cell:
    text: str
    link: str | None = None  # a path inside the site (the printable page links it)
    note: int | None = None  # the number of the note that says what it counts


@dataclass(frozen=True)
class Block:
    kind: str  # "title", "subtitle", "heading", "paragraph", "table", "notes"
    text: str = ""
    level: int = 1  # of a heading
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    notes: tuple[tuple[int, str, str], ...] = field(default=())  # (number, text, link)


def yuan(amount: Decimal | None) -> str:
    """``1234567.5`` → ``1,234,567.50 元`` ("" for none)."""
    return "" if amount is None else _("%(amount)s yuan", amount=f"{Decimal(amount):,.2f}")


def percent(share: Decimal | None) -> str:
    return "" if share is None else f"{share}%"


def cells(*values: Any) -> tuple[Cell, ...]:
    return tuple(v if isinstance(v, Cell) else Cell("" if v is None else str(v))
                 for v in values)
