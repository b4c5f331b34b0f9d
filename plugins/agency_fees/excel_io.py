"""A fee schedule as an Excel workbook: one sheet 收费标准 of (参数, 说明, 值) rows.

The first rows are the header (code, name, validity, note), then every rule as
a dotted key (``staff_day_rates.senior``, ``scale.bands.2.rate_pct``…), the
same rows as the side-by-side comparison. An import creates a new draft
revision; every problem names its row, nothing is saved unless all is right.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from core.services.excel import (
    CellError,
    Column,
    ExportColumn,
    ExportSheet,
    ImportRejected,
    SheetSpec,
    read_rows,
    text,
)
from plugins.agency_fees import service
from plugins.agency_fees.models import FeeSchedule
from plugins.agency_fees.schedule import RuleKeyError, field_label, flatten, unflatten

SHEET = "收费标准"
KEY, LABEL, VALUE = "参数", "说明", "值"
HEADER_KEYS = ("code", "name", "valid_from", "valid_to", "note")


def _value(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    return text()(value)


SPEC = SheetSpec(SHEET, [Column(KEY, "key", text(max_length=80)),
                         Column(VALUE, "value", _value, required=False)])


def header_labels() -> dict[str, str]:
    from flask_babel import gettext as _

    return {"code": _("Code"), "name": _("Name"), "valid_from": _("Valid from"),
            "valid_to": _("Valid to"), "note": _("Note")}


def export_sheet(schedule: FeeSchedule) -> ExportSheet:
    labels = header_labels()
    head = [(k, labels[k], str(getattr(schedule, k) or "")) for k in HEADER_KEYS]
    body = [(k, field_label(k), v) for k, v in flatten(schedule.rules)]
    return ExportSheet(SHEET, [ExportColumn(KEY, width=34), ExportColumn(LABEL, width=40),
                               ExportColumn(VALUE, width=20)], head + body)


def import_schedule(file: Any) -> FeeSchedule:
    """A new draft revision from an uploaded workbook; raises ImportRejected."""
    result = read_rows(file, SPEC)
    if not result.ok:
        raise ImportRejected(result.errors)
    letter = result.columns[SHEET]
    rows_of: dict[str, int] = {}
    header: dict[str, Any] = {}
    pairs = []
    for row in result.rows:
        key = row["key"]
        rows_of[key] = row.row
        if key in HEADER_KEYS:
            header[key] = row["value"] or ""
        else:
            pairs.append((key, row["value"] or ""))
    try:
        rules = unflatten(pairs)
    except RuleKeyError as exc:
        raise ImportRejected([CellError(SHEET, rows_of.get(exc.key.strip()), letter.get(KEY), KEY,
                                        _l("The key “%(key)s” does not fit the schedule's "
                                           "layout.", key=exc.key))]) from None
    try:
        return service.create_draft({**header, "rules": rules})
    except service.FeeError as exc:
        errors = []
        for path, message in exc.errors.items():
            key = path.removeprefix("rules.")
            row = rows_of.get(key) or next(
                (n for k, n in rows_of.items() if k.startswith(key + ".")), None)
            errors.append(CellError(SHEET, row, letter.get(VALUE) if row else None,
                                    VALUE if row else None, message))
        raise ImportRejected(sorted(errors, key=lambda e: e.row or 0)) from None
