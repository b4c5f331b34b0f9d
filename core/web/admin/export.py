"""Excel (xlsx) export of any admin list, through the core's Excel writer.

Flask-Admin exports formats other than csv through tablib, which keeps the
whole sheet in memory and turns every value into text. This writes the rows
the list shows (same scope, search, filters and sort) with ``core.services.excel``
(openpyxl write-only): amounts stay numbers formatted ``#,##0.00``, dates stay
dates, enum values show their labels, text starting with "=" stays text. An
export inside a request is capped at ``export_max_rows``; when the list holds
more, the sheet ends with a line that says so.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from core.services.excel import ExportSheet, xlsx_response


class XlsxExportMixin:
    #: rows one export may hold (a few seconds of work); narrow larger lists with filters
    export_max_rows = 10_000

    def _export_data(self):
        """At most ``export_max_rows`` rows, and the full count only when there are more
        (lists with ``simple_list_pager`` never count, so one extra row tells)."""
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        sort_column = sort[0] if sort is not None else None
        _count, rows = self.get_list(0, sort_column, args.sort_desc, args.search, args.filters,
                                     page_size=self.export_max_rows + 1)
        rows = list(rows)
        if len(rows) <= self.export_max_rows:
            return len(rows), rows
        _none, query = self.get_list(None, None, False, args.search, args.filters,
                                     execute=False, page_size=False)
        return query.order_by(None).count(), rows[:self.export_max_rows]

    def _export_tablib(self, export_type: str, return_url: str):
        if export_type != "xlsx":
            return super()._export_tablib(export_type, return_url)
        count, rows = self._export_data()
        columns = self._export_columns

        def values():
            for row in rows:
                yield [_exact(self.get_export_value(row, name)) for name, _label in columns]
            if count is not None and count > len(rows):
                yield [_("Only the first %(shown)s of %(total)s rows are exported; "
                         "narrow the list with filters to export the rest.",
                         shown=len(rows), total=count)]

        title = str(self.name)
        sheet = ExportSheet(title=_sheet_title(title), columns=[str(label) for _n, label in columns],
                            rows=values())
        return xlsx_response([sheet], f"{title}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.xlsx")


def _exact(value: Any) -> Any:
    """The Excel writer refuses floats (amounts must be exact): a plugin's float column
    is written as the Decimal of its shortest representation."""
    return Decimal(str(value)) if isinstance(value, float) else value


def _sheet_title(name: str) -> str:
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31] or "Sheet1"
