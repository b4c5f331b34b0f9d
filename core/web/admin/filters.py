"""Admin list filters: exact Decimals for Money columns, labelled options for enums,
and the department (部门) and unit (单位) filters every stage list has."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import has_request_context
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla import filters as f
from flask_admin.model.filters import convert
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import false, select

from core.db_int import row_id
from core.extensions import db
from core.models.org import OrgKind, OrgUnit
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


#: the org units a department filter offers (a unit's department is its parent; a town
#: stands for its town departments)
DEPARTMENT_KINDS = (OrgKind.DEPARTMENT, OrgKind.TOWN, OrgKind.TOWN_DEPARTMENT)
UNIT_KINDS = (OrgKind.UNIT,)


class VisibleOrgUnits:
    """Filter options read on each use (each list page): the org units of ``kinds``
    that the user may see — the row scope applies to this query like to any other."""

    def __init__(self, kinds: tuple[OrgKind, ...]) -> None:
        self.kinds = kinds

    def __bool__(self) -> bool:  # Flask-Admin asks once, at start-up, whether there are any
        return True

    def __iter__(self) -> Iterator[tuple[str, str]]:
        if not has_request_context():
            return iter(())
        rows = db.session.execute(
            select(OrgUnit.id, OrgUnit.name).where(OrgUnit.kind.in_(self.kinds))
            .order_by(OrgUnit.code, OrgUnit.id)).all()
        return iter([(str(org_id), name) for org_id, name in rows])


class OrgUnitFilter(f.BaseSQLAFilter):
    """Rows whose org unit (``column``, an org unit id) is the chosen one or lies under it."""

    def __init__(self, column: Any, name: Any, kinds: tuple[OrgKind, ...]) -> None:
        super().__init__(column, name, options=VisibleOrgUnits(kinds))

    def validate(self, value: str) -> bool:
        return row_id(value) is not None

    def clean(self, value: str) -> int:
        org_id = row_id(value)
        if org_id is None:
            raise ValueError(value)
        return org_id

    def apply(self, query, value, alias=None):
        # scoped: an org unit the user may not see matches nothing
        path = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == self.clean(value)))
        if not path:
            return query.filter(false())
        column = self.get_column(alias)
        return query.filter(column.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(path))))

    def operation(self):
        return admin_lazy_gettext("equals")


def department_filter(column: Any, name: Any = None) -> OrgUnitFilter:
    """Filter by department (部门): rows of the department and of its units."""
    return OrgUnitFilter(column, name or _l("Department"), DEPARTMENT_KINDS)


def unit_filter(column: Any, name: Any = None) -> OrgUnitFilter:
    """Filter by unit (单位): rows of one budget unit."""
    return OrgUnitFilter(column, name or lazy_pgettext("org unit", "Unit"), UNIT_KINDS)


def org_filters(column: Any, units: bool = True) -> tuple[OrgUnitFilter, ...]:
    """The department filter, and the unit filter where rows belong to units."""
    return (department_filter(column), unit_filter(column)) if units else \
        (department_filter(column),)
