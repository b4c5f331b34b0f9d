"""Hypothesis over every Excel import: random workbooks and mutations of a valid one.

The importers (every ``core.services.excel.read_rows`` upload in the plugins), each driven
through its admin page as the user who would use it:

- 绩效目标 target sheets, ``/admin/targetsheet/import/`` (unit0101, items of its own);
- 指标库 the indicator library, ``/admin/indicatortemplate/import/`` (finance);
- 预算执行 monitoring spending, ``/admin/monitoringrecord/import/`` (unit0101, a round);
- 收费标准 a fee schedule, ``/admin/fee_schedule/import/`` (finance).

Every upload is either taken (a redirect) or refused with the list of errors —
each with a message, and a row number that points into the file — and then
nothing was written: the importer's tables and the audit log are as before.
Never a server error. Examples are few, derandomized and without deadline.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import delete, select

from core.extensions import db
from tests.fuzz.support import snapshot
from tests.plugins.monitoring.conftest import world  # noqa: F401 - fixture
from tests.plugins.targets.conftest import HEADERS as TARGET_HEADERS
from tests.plugins.targets.conftest import draft_items, good_rows  # noqa: F401 - fixture
from tests.support import csrf_from, xlsx

EXAMPLES = 20

FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                phases=[Phase.explicit, Phase.generate], print_blob=True,
                suppress_health_check=list(HealthCheck))


# --- what a cell may hold -----------------------------------------------------------------

TRICKY = ["", " ", "=1+1", "=A1*2", "是", "否", "≥", "≤", "=", "定性", "区间", "#REF!", "1e309",
          "NaN", "-0", "１２", "12.345", "1,000.00", "-5", "2026-13-45", "2026/02/30", "0.001",
          "' OR 1=1 --", "%", "_", "\u202e", "\ufeff", "产出", "效益", "满意度", "数量",
          "staff_day_rates", "scale", "scale.bands", "scale.bands.1", "scale.bands.x.rate_pct",
          "method", "code", "valid_from", "a.b.c"]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
LONG = st.text(st.characters(exclude_categories=("Cs",)), min_size=21, max_size=260)
CELL = st.one_of(
    st.none(), TEXT, LONG, st.sampled_from(TRICKY),
    st.integers(min_value=-(2**70), max_value=2**70), st.integers(min_value=-5, max_value=200),
    st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.dates(min_value=date(1900, 1, 1)), st.datetimes(min_value=datetime(1900, 1, 1)))


def _clean(value):
    """Strings openpyxl can write (it refuses control characters)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


@dataclass
class Book:
    """A workbook as data: sheets of rows (the first row is the header), merged ranges."""

    sheets: dict[str, list[list]]
    merged: list[tuple[str, str]] = field(default_factory=list)

    def bytes(self) -> bytes:
        return xlsx({title: [[_clean(v) for v in row] for row in rows]
                     for title, rows in self.sheets.items()},
                    merged=[(title, ref) for title, ref in self.merged if title in self.sheets])

    def rows(self) -> int:
        return max((len(rows) for rows in self.sheets.values()), default=0)


# --- the importers ------------------------------------------------------------------------

@dataclass
class Importer:
    url: str
    user: str
    sheet: str
    headers: list[str]
    valid: list[list]  # data rows a clean import takes
    tables: tuple[str, ...]
    form: dict[str, str] = field(default_factory=dict)

    def valid_book(self) -> Book:
        return Book({self.sheet: [list(self.headers), *map(list, self.valid)]})


def _sheet_title(name: str) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "", _clean(name)).strip("'")[:31]
    return title or "Sheet"


def random_books(imp: Importer):
    """Random sheets (sometimes the right name), headers (some right) and cells."""
    title = st.one_of(st.just(imp.sheet), TEXT.map(_sheet_title))
    header = st.lists(st.one_of(st.sampled_from(imp.headers), TEXT, st.none()), max_size=14)
    rows = st.lists(st.lists(CELL, max_size=14), max_size=6)
    sheet = st.tuples(title, header, rows)
    return st.lists(sheet, min_size=1, max_size=3).map(
        lambda sheets: Book({t: [h, *r] for t, h, r in sheets}))


def mutated_books(imp: Importer):
    """The valid workbook with a few keys, cells, rows, columns or the sheet changed."""
    def mutate(data) -> Book:
        rekeys, steps = data
        book = imp.valid_book()
        rows = book.sheets[imp.sheet]
        for r, variant in rekeys:  # a first column's text (code, key), a little changed
            r = 1 + r % (len(rows) - 1)
            base = str(rows[r][0] or "")
            rows[r][0] = [base.rsplit(".", 1)[0], base.split(".")[0], f"{base}.x",
                          f"{base}.1", base.upper(), f" {base} ", base[:-1]][variant]
        for kind, r, c, value in steps:
            r = r % len(rows)
            width = max(len(row) for row in rows)
            c = c % max(width, 1)
            if kind == "cell":
                row = rows[r] + [None] * (c + 1 - len(rows[r]))
                row[c] = value
                rows[r] = row
            elif kind == "drop_row" and len(rows) > 1:
                del rows[r]
            elif kind == "copy_row":
                rows.insert(r, list(rows[r]))
            elif kind == "junk_row":
                rows.insert(r, [value] * (c + 1))
            elif kind == "drop_column":
                for row in rows:
                    if c < len(row):
                        del row[c]
            elif kind == "swap_columns":
                for row in rows:
                    row += [None] * (width - len(row))
                    row[0], row[c] = row[c], row[0]
            elif kind == "merge" and r > 0:
                book.merged.append((imp.sheet, f"A{r + 1}:B{r + 2}"))
            elif kind == "rename":
                book.sheets = {_sheet_title(str(value)): rows}
                return book
        return book

    rekey = st.tuples(st.integers(0, 2**16), st.integers(0, 6))
    step = st.tuples(st.sampled_from(["cell"] * 6 + ["drop_row", "copy_row", "junk_row",
                                                     "drop_column", "swap_columns", "merge",
                                                     "rename"]),
                     st.integers(0, 2**16), st.integers(0, 2**16), CELL)
    return st.tuples(st.lists(rekey, max_size=3), st.lists(step, max_size=3)).filter(
        lambda data: data[0] or data[1]).map(mutate)


NOT_WORKBOOKS = st.one_of(
    st.binary(max_size=300),
    st.just(b"PK\x03\x04"),
    st.builds(lambda names: _zip(names), st.lists(TEXT.filter(bool), max_size=3)))


def _zip(names: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, b"<x/>")
        archive.writestr("xl/workbook.xml", b"<not-a-workbook")
    return out.getvalue()


# --- fixtures: one importer each, on rows of its own ------------------------------------

@pytest.fixture
def targets(draft_items):  # noqa: F811 - the fixture imported above
    rows = [r for _id, code in draft_items[:2] for r in good_rows(code)]
    return Importer("/admin/targetsheet/import/", "unit0101", "绩效目标", TARGET_HEADERS, rows,
                    ("target_sheet", "target_indicator", "target_revision"), {"year": "2026"})


LIBRARY_HEADERS = ["行业领域", "一级指标", "二级指标", "三级指标", "比较符", "计量单位", "参考指标值",
                   "评分方法", "数据来源", "指标说明"]


@pytest.fixture
def library(app):
    from plugins.targets.models import IndicatorTemplate

    with app.app_context():
        before = set(db.session.scalars(select(IndicatorTemplate.id)))
    sector = "模糊测试"
    rows = [[sector, "产出", "数量", f"测试指标{n}", "≥", "个", str(n), "", "", ""] for n in range(3)]
    yield Importer("/admin/indicatortemplate/import/", "finance", "指标库", LIBRARY_HEADERS, rows,
                   ("indicator_template",))
    with app.app_context():
        db.session.execute(delete(IndicatorTemplate).where(IndicatorTemplate.id.not_in(before)))
        db.session.commit()


@pytest.fixture
def monitoring(world):  # noqa: F811 - the fixture imported above
    rows = [[code, 400 + n, None] for n, code in enumerate(world.codes)]
    return Importer("/admin/monitoringrecord/import/", "unit0101", "预算执行",
                    ["项目编码", "累计支出（元）", "超预算说明"], rows,
                    ("monitoring_record", "monitoring_round"), {"round": str(world.round_id)})


@pytest.fixture
def fees(app):
    from plugins.agency_fees.models import FeeSchedule
    from plugins.agency_fees.schedule import field_label, flatten
    from tests.plugins.agency_fees.conftest import RULES

    code = "FUZZ-FEES"
    head = [["code", "代码", code], ["name", "名称", "模糊测试收费标准"],
            ["valid_from", "生效日期", "2027-01-01"], ["valid_to", "失效日期", ""],
            ["note", "备注", ""]]
    rows = head + [[k, field_label(k), v] for k, v in flatten(RULES)]
    yield Importer("/admin/fee_schedule/import/", "finance", "收费标准", ["参数", "说明", "值"],
                   rows, ("fee_schedule",))
    with app.app_context():
        db.session.execute(delete(FeeSchedule).where(FeeSchedule.code == code))
        db.session.commit()


# --- the checks ---------------------------------------------------------------------------

_ROW = re.compile(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", re.S)
_ITEM = re.compile(r"<li>(.*?)</li>", re.S)


def upload(client, imp: Importer, data: bytes, filename: str = "upload.xlsx"):
    page = client.get(imp.url)
    assert page.status_code == 200
    return client.post(imp.url, data={"csrf_token": csrf_from(page.text), **imp.form,
                                      "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def check_upload(app, client, imp: Importer, data: bytes, rows_in_file: int,
                 filename: str = "upload.xlsx") -> bool:
    """Upload ``data``; True when it was taken. A refusal must list its errors and write nothing."""
    before = snapshot(app, *imp.tables)
    response = upload(client, imp, data, filename)  # an exception here is the server error
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        return True
    page = response.text
    assert "jixiao-import-errors" in page, "refused without saying why"
    errors = page.split("jixiao-import-errors", 1)[1]
    found = _ROW.findall(errors) or _ITEM.findall(errors)
    assert found, "the error list is empty"
    for error in found:
        if isinstance(error, tuple):
            _sheet, row, _column, message = error
            assert message.strip(), error
            if row.strip():
                assert 1 <= int(row) <= rows_in_file + 1, error
        else:
            assert error.strip()
    assert snapshot(app, *imp.tables) == before, "a refused import wrote something"
    return False


def _fuzz_importer(app, login, imp: Importer) -> None:
    client = login(imp.user)
    # the valid file is taken, so the importer is reachable and its rows are right
    assert check_upload(app, client, imp, imp.valid_book().bytes(), len(imp.valid) + 1)

    @FUZZ
    @given(book=mutated_books(imp))
    def mutations(book: Book):
        check_upload(app, client, imp, book.bytes(), book.rows())

    @settings(FUZZ, max_examples=EXAMPLES // 2)
    @given(book=random_books(imp))
    def random_workbooks(book: Book):
        check_upload(app, client, imp, book.bytes(), book.rows())

    @settings(FUZZ, max_examples=4)
    @given(data=NOT_WORKBOOKS)
    def other_files(data: bytes):
        assert not check_upload(app, client, imp, data, 0)

    mutations()
    random_workbooks()
    other_files()


def test_target_sheet_import(app, login, targets):
    _fuzz_importer(app, login, targets)


def test_indicator_library_import(app, login, library):
    _fuzz_importer(app, login, library)


def test_monitoring_spending_import(app, login, monitoring):
    _fuzz_importer(app, login, monitoring)


def test_fee_schedule_import(app, login, fees):
    _fuzz_importer(app, login, fees)
