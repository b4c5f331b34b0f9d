"""Admin list filters for Money columns: values parsed as exact Decimals, never floats."""

from __future__ import annotations

from flask_admin.contrib.sqla import filters as f
from flask_admin.model.filters import convert

from core.money import parse_money


class _MoneyClean:
    def clean(self, value):
        return parse_money(value, allow_negative=True)


class MoneyEqualFilter(_MoneyClean, f.FloatEqualFilter):
    pass


class MoneyNotEqualFilter(_MoneyClean, f.FloatNotEqualFilter):
    pass


class MoneyGreaterFilter(_MoneyClean, f.FloatGreaterFilter):
    pass


class MoneySmallerFilter(_MoneyClean, f.FloatSmallerFilter):
    pass


class FilterConverter(f.FilterConverter):
    """Flask-Admin's converter, plus the core's ``Money`` type."""

    @convert("Money")
    def conv_money(self, column, name, **kwargs):
        return [cls(column, name, **kwargs) for cls in (
            MoneyEqualFilter, MoneyNotEqualFilter, MoneyGreaterFilter, MoneySmallerFilter,
            f.FilterEmpty)]
