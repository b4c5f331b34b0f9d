"""How values look in admin lists, details and exports: enum labels and amounts.

Enum values show their Babel label (Chinese by default) instead of the raw name;
times (stored as naive UTC) show in the configured time zone.
The core registers the labels of its enums; a plugin registers its own with
``register_labels(MyEnum, MY_LABELS)`` at import time. Amounts (two-place
Decimals) show with thousands separators; exports keep them as numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import g, has_request_context
from flask_admin.model import typefmt
from flask_babel import format_datetime, to_user_timezone
from flask_babel import gettext as _
from markupsafe import Markup

from core.models.budget import BUDGET_TYPE_LABELS, ITEM_KIND_LABELS, BudgetType, ItemKind
from core.models.org import ORG_KIND_LABELS, OrgKind
from core.models.project import PROJECT_STATUS_LABELS, ProjectStatus
from core.models.user import ROLE_LABELS, RoleName
from core.models.workflow import STATE_LABELS, State

_LABELS: dict[type[Enum], Mapping[Any, Any]] = {
    OrgKind: ORG_KIND_LABELS,
    ItemKind: ITEM_KIND_LABELS,
    BudgetType: BUDGET_TYPE_LABELS,
    ProjectStatus: PROJECT_STATUS_LABELS,
    RoleName: ROLE_LABELS,
    State: STATE_LABELS,
}


def register_labels(enum_cls: type[Enum], labels: Mapping[Any, Any]) -> None:
    """Declare the display labels (lazy strings) of an enum's members."""
    _LABELS[enum_cls] = labels


def enum_choices(enum_cls: type[Enum]) -> list[tuple[Enum, Any]]:
    """``(member, label)`` for every member, in declaration order."""
    labels = _LABELS.get(enum_cls, {})
    return [(m, labels.get(m, m.value)) for m in enum_cls]


def _once_per_request(key: Any, make) -> str:
    """Translate a label once per request (an export formats the same few labels 100k times)."""
    if not has_request_context():
        return make()
    cache = g.setdefault("jixiao_labels", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def enum_label(value: Any) -> str:
    """The label of an enum member (its value when no label is registered)."""
    if not isinstance(value, Enum):
        return "" if value is None else str(value)

    def make() -> str:
        label = _LABELS.get(type(value), {}).get(value)
        return str(label) if label is not None else str(value.value)

    return _once_per_request((type(value), value), make)


def org_unit_name(org_unit_id: int | None) -> str:
    """The name of an org unit, for a list column; "" for none or one the user may not see.

    The first call of a request reads the names of every org unit the user may see in
    one query (id and name only), so a list page or export of any length costs one
    query whatever the rows, instead of one per row.
    """
    if org_unit_id is None:
        return ""
    if not has_request_context():
        return str(org_unit_id)
    names = g.get("jixiao_org_names")
    if names is None:
        from sqlalchemy import select

        from core.extensions import db
        from core.models.org import OrgUnit

        rows = db.session.execute(select(OrgUnit.id, OrgUnit.name))
        names = g.jixiao_org_names = {org_id: name for org_id, name in rows}
    return names.get(org_unit_id, "")


def org_unit_column(view, context, model, name) -> str:
    """Column formatter: the name of the row's org unit (``model.org_unit_id``)."""
    return org_unit_name(getattr(model, "org_unit_id", None))


def money_text(value: Decimal | int) -> str:
    """``1234567.5`` → ``1,234,567.50``."""
    return f"{Decimal(value):,.2f}"


def _is_amount(value: Decimal) -> bool:
    return value.is_finite() and value.as_tuple().exponent == -2


def _enum_fmt(view, value, name) -> str:
    return enum_label(value)


def _amount_list_fmt(view, value: Decimal, name) -> Any:
    if not _is_amount(value):
        return str(value)
    return Markup('<span class="jixiao-amount">{}</span>').format(money_text(value))


def _amount_detail_fmt(view, value: Decimal, name) -> str:
    return money_text(value) if _is_amount(value) else str(value)


def _time_fmt(view, value: datetime, name) -> str:
    """Stored times are naive UTC; show them in the configured time zone (Asia/Shanghai)."""
    return format_datetime(value, "yyyy-MM-dd HH:mm:ss")


def _time_export(view, value: datetime, name) -> datetime:
    return to_user_timezone(value).replace(tzinfo=None)


def _yes_no(view, value: bool, name) -> str:
    return _once_per_request(("bool", bool(value)), lambda: _("Yes") if value else _("No"))


LIST_FORMATTERS = {**typefmt.BASE_FORMATTERS, Enum: _enum_fmt, Decimal: _amount_list_fmt,
                   datetime: _time_fmt}
DETAIL_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, Enum: _enum_fmt, Decimal: _amount_detail_fmt,
                     bool: _yes_no, datetime: _time_fmt}
#: exports keep numbers and dates as they are (the xlsx writer formats them)
EXPORT_FORMATTERS = {**typefmt.EXPORT_FORMATTERS, Enum: _enum_fmt, bool: _yes_no,
                     datetime: _time_export}


class DisplayMixin:
    """Model-view defaults: enum labels and amounts in lists, details and exports."""

    column_type_formatters = LIST_FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS
    column_type_formatters_export = EXPORT_FORMATTERS


def rendered(html: str) -> Markup:
    """The output of ``render_template`` (an autoescaped template) as HTML to embed, e.g. a
    plugin's panel on a budget item's page: every value in it was escaped when rendered."""
    # only ever given an autoescaped template's output
    return Markup(html)  # noqa: S704 # nosec B704
