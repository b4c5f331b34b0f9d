"""Whole numbers from outside stay inside the database's INTEGER range.

Every id and count column is a 32-bit ``INTEGER`` on PostgreSQL (SQLite takes
64 bits). A larger number sent by a client used to reach the driver and fail
there (``OverflowError`` on SQLite, ``NumericValueOutOfRange`` on PostgreSQL):
a server error instead of "no such row" or "not valid". The guards:

- ``IdConverter`` is the app's ``<int:…>`` URL converter: a larger number
  matches no route, so it is a 404 like any other missing row;
- ``row_id``/``get_by_id`` read an id sent in a form or query string;
- the API's argument schemas get the same range (``core.web.api.fields.bound_integers``),
  so a larger number is a 422 ``validation_error`` naming the field.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` limited to ``0 … INT_MAX``."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        limit = INT_MAX if max is None or max > INT_MAX else max
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=limit, signed=signed)


def row_id(value: object) -> int | None:
    """A row id sent in a form or query string, or None when it cannot be one.

    Digits only, 1 … INT_MAX: ``"abc"``, ``""``, ``"-3"`` or a number past the
    INTEGER range mean "no such row" (the caller's 404 or field error), never a
    server error from ``int()`` or from the driver."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= INT_MAX else None


def get_by_id(model: type, value: object):
    """``db.session.get(model, row_id(value))``, or None when ``value`` is no row id."""
    from core.extensions import db

    number = row_id(value)
    return None if number is None else db.session.get(model, number)
