"""Form fields shared by every plugin."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import ValidationError

from core.money import MoneyError, parse_money


class MoneyField(StringField):
    """An amount in yuan: a Decimal with at most two places, never negative.

    Input with more places is refused, not rounded.
    """

    def __init__(self, label=None, validators=None, allow_negative: bool = False, **kwargs):
        kwargs.setdefault("description", _l("Yuan, at most two decimal places"))
        super().__init__(label, validators, **kwargs)
        self.allow_negative = allow_negative

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.2f}"

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_money(valuelist[0], allow_negative=self.allow_negative)
            except MoneyError as exc:
                self.data = None
                raise ValueError(str(exc)) from None

    def pre_validate(self, form):
        if self.data is not None and not isinstance(self.data, Decimal):
            raise ValidationError(_l("Not a valid amount."))
