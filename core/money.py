"""Money: ``Decimal`` yuan with 2 places, end to end; never float, never rounded silently."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Numeric
from sqlalchemy.types import TypeDecorator

PLACES = 2
QUANT = Decimal("0.01")


class MoneyError(ValueError):
    """A value that is not an exact amount of yuan with at most two places."""


def parse_money(value: Any, *, allow_negative: bool = False) -> Decimal:
    """Parse user input into a Decimal of yuan; refuse floats, >2 places, NaN, negatives."""
    if isinstance(value, float):
        raise MoneyError(_l("Amounts must be exact decimals, not floating point numbers."))
    if isinstance(value, str):
        value = value.strip().replace(",", "")
    try:
        dec = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise MoneyError(_l("Not a valid amount.")) from None
    if not dec.is_finite():
        raise MoneyError(_l("Not a valid amount."))
    exponent = dec.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PLACES:
        raise MoneyError(_l("At most two decimal places (fen) are allowed."))
    if dec < 0 and not allow_negative:
        raise MoneyError(_l("The amount cannot be negative."))
    if abs(dec) >= Decimal(10) ** 16:
        raise MoneyError(_l("The amount is too large."))
    return dec.quantize(QUANT)


class Money(TypeDecorator):
    """A NUMERIC(18, 2) column that only accepts exact Decimals with ≤ 2 places."""

    impl = Numeric(18, 2, asdecimal=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return parse_money(value, allow_negative=True)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return Decimal(value).quantize(QUANT)
