"""Admin list filters: exact Decimals for Money columns, labelled options for enums."""

from __future__ import annotations

from flask_admin.contrib.sqla import filters as f
from flask_admin.model.filters import convert

from core.money import parse_money
from core.web.admin.display import enum_choices


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


class _EnumClean:
    """A member name that does not exist is an invalid filter value, not a server error."""

    def clean(self, value):
        try:
            return super().clean(value)
        except KeyError:
            raise ValueError(value) from None


class EnumEqualFilter(_EnumClean, f.EnumEqualFilter):
    pass


class EnumNotEqualFilter(_EnumClean, f.EnumFilterNotEqual):
    pass


class FilterConverter(f.FilterConverter):
    """Flask-Admin's converter, plus the core's ``Money`` type and enum labels."""

    enum = (EnumEqualFilter, EnumNotEqualFilter)

    @convert("Money")
    def conv_money(self, column, name, **kwargs):
        return [cls(column, name, **kwargs) for cls in (
            MoneyEqualFilter, MoneyNotEqualFilter, MoneyGreaterFilter, MoneySmallerFilter,
            f.FilterEmpty)]

    @convert("enum")
    def conv_enum(self, column, name, options=None, **kwargs):
        enum_cls = getattr(column.type, "enum_class", None)
        if not options and enum_cls is not None:
            # the filter value is the member's name (what EnumEqualFilter.clean looks up)
            options = [(m.name, label) for m, label in enum_choices(enum_cls)]
        return super().conv_enum(column, name, options, **kwargs)
