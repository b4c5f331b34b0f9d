"""What the Excel fuzz (test_excel_importers.py) found, one focused test per defect.

- fee schedule import: a 参数 key that does not fit the rules' layout — a group
  name on its own after its entries (``staff_day_rates``), ``scale``,
  ``scale.bands.1``, or one level too deep — crashed the import
  (``TypeError`` in ``unflatten``: a server error) instead of naming the row.
"""

from __future__ import annotations

import re

import pytest

from tests.fuzz.test_excel_importers import check_upload, fees, upload  # noqa: F401 - fixture


@pytest.mark.parametrize("key", ["staff_day_rates", "scale", "scale.bands.1", "scale.bands",
                                 "staff_day_rates.senior.x", "tax_pct.x"])
def test_a_fee_key_that_does_not_fit_is_named_with_its_row(app, login, fees, key):  # noqa: F811
    client = login(fees.user)
    book = fees.valid_book()
    rows = book.sheets[fees.sheet]
    # the entry right after the first one of a group, so a group's other entries follow it
    at = next(n for n, row in enumerate(rows) if str(row[0]).startswith(key.split(".")[0]))
    at = at + 1 if key in ("staff_day_rates", "scale") else at
    rows[at][0] = key
    assert not check_upload(app, client, fees, book.bytes(), len(rows))
    page = upload(client, fees, book.bytes()).text
    # the error table's sheet, row and column cells
    assert re.search(f"<td>收费标准</td><td>{at + 1}</td><td>[AC] ", page), \
        "the error names the row"
