"""Excel I/O for every import and export: validated streaming reads, streaming writes.

Import in two steps (see docs/excel.md):

1. ``read_rows(file, spec)`` streams the workbook (openpyxl ``read_only``), checks
   the headers, parses every cell with its column's parser and returns
   ``ImportResult(rows, errors)``; every problem is a ``CellError`` naming the
   sheet, row, column letter and header. Nothing is written.
2. ``commit_all_or_nothing(session, result, apply_fn)`` applies the rows inside a
   savepoint; one bad row (or any exception) rolls back every row.

Export with ``write_rows(stream, sheets)`` (openpyxl ``write_only``) or, in a
view, ``xlsx_response(sheets, filename)``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any
from urllib.parse import quote

from defusedxml.ElementTree import iterparse  # no entity expansion, no external DTDs
from flask import Response
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, range_boundaries
from sqlalchemy.exc import IntegrityError

from core.money import MoneyError, parse_money
from core.scope import ScopeError

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 10 * 1024 * 1024  # the uploaded file
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # the XML inside it (zip bombs)
MAX_ROWS = 20_000  # data rows per sheet
MAX_ERRORS = 200  # errors listed before giving up
YES, NO = "是", "否"  # the file format of yes/no cells, in import and export alike
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_DATE_PATTERNS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


# --- Results ------------------------------------------------------------------

@dataclass(frozen=True)
class CellError:
    """One problem in an uploaded workbook; file-level problems have no sheet or row."""

    sheet: str | None
    row: int | None
    column_letter: str | None
    column_header: str | None
    message: Any  # a lazy (translatable) string

    def __str__(self) -> str:
        where = self.sheet or ""
        if self.column_letter and self.row:
            where += f"!{self.column_letter}{self.row}"
        elif self.row:
            where += f" row {self.row}"
        if self.column_header:
            where += f" ({self.column_header})"
        return f"{where}: {self.message}" if where else str(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column_letter,
                "header": self.column_header, "message": str(self.message)}


@dataclass
class ImportedRow:
    """One valid data row: its sheet, its row number and the parsed values by key."""

    sheet: str
    row: int
    values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


@dataclass
class ImportResult:
    """The rows that parsed cleanly and every error; import only when ``ok``."""

    rows: list[ImportedRow] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    #: sheet → header → column letter, for errors an importer finds after reading
    columns: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def rows_of(self, sheet: str) -> list[ImportedRow]:
        return [r for r in self.rows if r.sheet == sheet]


class ImportRejected(ValueError):
    """Nothing was imported; ``errors`` lists every reason."""

    def __init__(self, errors: Sequence[CellError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


class CellValueError(ValueError):
    """Raised by a column parser: the cell's value is not acceptable."""

    def __init__(self, message: Any) -> None:
        self.message = message
        super().__init__(str(message))


class RowError(ValueError):
    """Raised by an ``apply_fn``: this row cannot be applied (``column`` names a header)."""

    def __init__(self, message: Any, column: str | None = None) -> None:
        self.message = message
        self.column = column
        super().__init__(str(message))


# --- Column parsers (value → parsed value, or CellValueError) -----------------

Parser = Callable[[Any], Any]


def text(max_length: int | None = None) -> Parser:
    def parse(value: Any) -> str:
        if isinstance(value, datetime | date):
            raise CellValueError(_l("Enter text, not a date."))
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out = str(value).strip()
        if max_length is not None and len(out) > max_length:
            raise CellValueError(_l("At most %(max)s characters are allowed.", max=max_length))
        return out
    return parse


def integer(minimum: int | None = None, maximum: int | None = None) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise CellValueError(_l("Enter a whole number."))
        if minimum is not None and value < minimum:
            raise CellValueError(_l("The number must be at least %(min)s.", min=minimum))
        if maximum is not None and value > maximum:
            raise CellValueError(_l("The number must be at most %(max)s.", max=maximum))
        return value
    return parse


def money(allow_negative: bool = False) -> Parser:
    """Yuan with at most 2 places (``core.money.parse_money``).

    Excel stores numbers as binary floats; ``repr`` gives back the shortest
    decimal that the cell held (what the user typed), which is then parsed
    exactly, so 12.345 is refused rather than rounded.
    """
    def parse(value: Any) -> Decimal:
        if isinstance(value, bool) or isinstance(value, datetime | date):
            raise CellValueError(_l("Not a valid amount."))
        if isinstance(value, float):
            value = repr(value)
        try:
            return parse_money(value, allow_negative=allow_negative)
        except MoneyError as exc:
            raise CellValueError(exc.args[0]) from None
    return parse


def date_value() -> Parser:
    def parse(value: Any) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            for pattern in _DATE_PATTERNS:
                try:
                    return datetime.strptime(value.strip(), pattern).date()
                except ValueError:
                    continue
        raise CellValueError(_l("Enter a date such as 2024-03-31."))
    return parse


def enum_label(labels: Mapping[Any, Any]) -> Parser:
    """A choice by its label: ``labels`` maps value → label (lazy labels are fine)."""
    def parse(value: Any) -> Any:
        by_label = {str(label): key for key, label in labels.items()}
        got = str(value).strip()
        if got in by_label:
            return by_label[got]
        raise CellValueError(_l("Choose one of: %(choices)s.", choices="、".join(by_label)))
    return parse


def boolean() -> Parser:
    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        got = str(value).strip()
        if got in (YES, NO):
            return got == YES
        raise CellValueError(_l("Enter %(yes)s or %(no)s.", yes=YES, no=NO))
    return parse


# --- Specs --------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A column of an import sheet: its exact header text, the row key and a parser."""

    header: str
    key: str
    parser: Parser = field(default_factory=text)
    required: bool = True


@dataclass(frozen=True)
class SheetSpec:
    """One sheet: its name, its header row and columns (any order, all present)."""

    name: str
    columns: Sequence[Column]
    header_row: int = 1
    extra_columns_allowed: bool = True


# --- Reading ------------------------------------------------------------------

def _file_error(message: Any) -> ImportResult:
    return ImportResult(errors=[CellError(None, None, None, None, message)])


def _open_source(file: Any, max_bytes: int) -> tuple[IO[bytes] | None, Any]:
    """A seekable binary stream of the upload, or an error message."""
    if isinstance(file, bytes | bytearray):
        stream: IO[bytes] = io.BytesIO(file)
    elif isinstance(file, str | os.PathLike):
        if os.path.getsize(file) > max_bytes:
            return None, _too_large(max_bytes)
        stream = open(file, "rb")  # closed by read_rows
    else:
        stream = getattr(file, "stream", file)  # werkzeug FileStorage
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > max_bytes:
        return None, _too_large(max_bytes)
    return stream, None


def _too_large(max_bytes: int) -> Any:
    size = (f"{max_bytes / 1024 / 1024:g} MB" if max_bytes >= 1024 * 1024
            else f"{max_bytes / 1024:g} KB" if max_bytes >= 1024 else f"{max_bytes} B")
    return _l("The file is larger than %(size)s.", size=size)


def read_rows(file: Any, spec: SheetSpec | Sequence[SheetSpec], *, max_bytes: int = MAX_BYTES,
              max_rows: int = MAX_ROWS, max_errors: int = MAX_ERRORS,
              max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
              on_row: Callable[[ImportedRow], None] | None = None) -> ImportResult:
    """Read and validate every sheet of ``spec`` from ``file`` (path, bytes or file object).

    With ``on_row``, each valid row is handed to it as it is read instead of being
    kept in ``result.rows`` (large imports then need not hold every row).
    """
    specs = [spec] if isinstance(spec, SheetSpec) else list(spec)
    stream, error = _open_source(file, max_bytes)
    if stream is None:
        return _file_error(error)
    try:
        try:
            with zipfile.ZipFile(stream) as archive:
                names = archive.namelist()
                unpacked = sum(info.file_size for info in archive.infolist())
            if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml")
                                                          for n in names):
                return _file_error(_not_a_workbook())
            if unpacked > max_unpacked_bytes:
                return _file_error(_l("The workbook is too large once unpacked."))
            stream.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                workbook = load_workbook(stream, read_only=True, data_only=False,
                                         keep_links=False)
        except Exception:  # any failure to open untrusted bytes is the same answer
            return _file_error(_not_a_workbook())
        result = ImportResult()
        try:
            for sheet_spec in specs:
                _read_sheet(workbook, sheet_spec, result, max_rows, max_errors, on_row)
                if len(result.errors) >= max_errors:
                    break
        finally:
            workbook.close()
        return result
    finally:
        if isinstance(file, str | os.PathLike):
            stream.close()


def _not_a_workbook() -> Any:
    return _l("The file is not an Excel workbook (.xlsx). Save it as an .xlsx file and try again.")


class _Collector:
    """The errors of one sheet; they are sorted by row and column when the sheet is done."""

    def __init__(self, result: ImportResult, sheet: str, max_errors: int) -> None:
        self.result, self.sheet, self.max_errors = result, sheet, max_errors
        self.start = len(result.errors)
        self.truncated = False

    def add(self, row: int | None, col: int | None, header: str | None, message: Any) -> bool:
        """Record an error; False once too many errors were recorded (stop reading)."""
        if len(self.result.errors) >= self.max_errors:
            self.truncated = True
            return False
        self.result.errors.append(CellError(self.sheet, row, get_column_letter(col) if col
                                            else None, header, message))
        return True

    def finish(self) -> None:
        errors = self.result.errors
        errors[self.start:] = sorted(errors[self.start:], key=lambda e: (
            e.row or 0, len(e.column_letter or ""), e.column_letter or ""))
        if self.truncated:
            errors.append(CellError(self.sheet, None, None, None, _l(
                "Too many errors; only the first %(count)s are listed.", count=self.max_errors)))


def _merged_ranges(worksheet: Any) -> list[tuple[int, int, int, int]]:
    """The merged ranges (min_col, min_row, max_col, max_row) of a read-only sheet."""
    get_source = getattr(worksheet, "_get_source", None)
    if get_source is None:  # a normal (not read-only) worksheet
        return [(r.min_col, r.min_row, r.max_col, r.max_row)
                for r in worksheet.merged_cells.ranges]
    with get_source() as src:  # most sheets have none: a byte scan avoids a second parse
        if not _mentions(src, b"mergeCell"):
            return []
    out = []
    with get_source() as src:
        for _event, element in iterparse(src):
            if element.tag == f"{_MAIN_NS}mergeCell":
                out.append(range_boundaries(element.get("ref", "")))
            element.clear()
    return out


def _mentions(src: IO[bytes], needle: bytes, chunk: int = 1 << 20) -> bool:
    """Whether the stream's bytes contain ``needle`` (read in chunks)."""
    tail = b""
    while block := src.read(chunk):
        if needle in tail + block[:len(needle)] or needle in block:
            return True
        tail = block[-len(needle):]
    return False


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_sheet(workbook: Any, spec: SheetSpec, result: ImportResult, max_rows: int,
                max_errors: int, on_row: Callable[[ImportedRow], None] | None = None) -> None:
    errors = _Collector(result, spec.name, max_errors)
    try:
        _read_sheet_into(workbook, spec, result, max_rows, errors, on_row)
    finally:
        errors.finish()


def _read_sheet_into(workbook: Any, spec: SheetSpec, result: ImportResult, max_rows: int,
                     errors: _Collector,
                     on_row: Callable[[ImportedRow], None] | None = None) -> None:
    if spec.name not in workbook.sheetnames:
        errors.add(None, None, None, _l(
            "The sheet “%(sheet)s” is missing (found: %(found)s).", sheet=spec.name,
            found="、".join(workbook.sheetnames)))
        return
    ws = workbook[spec.name]
    ws.reset_dimensions()  # some writers store a wrong size; read what is there
    rows = ws.iter_rows(min_row=spec.header_row)
    header_cells = next(rows, ())
    positions: dict[str, int] = {}
    for col, cell in enumerate(header_cells, start=1):
        label = "" if cell.value is None else str(cell.value).strip()
        if not label:
            continue
        if label in positions:
            errors.add(spec.header_row, col, label, _l("The column “%(header)s” appears twice.",
                                                       header=label))
        positions.setdefault(label, col)
    expected = {c.header for c in spec.columns}
    missing = [c.header for c in spec.columns if c.header not in positions]
    for header in missing:
        errors.add(spec.header_row, None, header, _l(
            "The column “%(header)s” is missing from row %(row)s.", header=header,
            row=spec.header_row))
    if not spec.extra_columns_allowed:
        for label, col in positions.items():
            if label not in expected:
                errors.add(spec.header_row, col, label, _l(
                    "Unexpected column “%(header)s”.", header=label))
    if missing or errors.truncated:
        return  # without the right headers the data cannot be read
    result.columns[spec.name] = {label: get_column_letter(col) for label, col in positions.items()}
    header_of = {positions[c.header]: c.header for c in spec.columns}
    merged = [m for m in _merged_ranges(ws) if m[3] > spec.header_row]
    for min_col, min_row, max_col, max_row in merged:
        ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}"
        if not errors.add(max(min_row, spec.header_row + 1), min_col, header_of.get(min_col),
                          _l("Merged cells (%(range)s) are not allowed in the data area; "
                             "unmerge them.", range=ref)):
            return
    keep = on_row or result.rows.append
    count = 0
    for row_number, cells in enumerate(rows, start=spec.header_row + 1):
        if all(_is_blank(c.value) for c in cells):
            continue
        count += 1
        if any(m[1] <= row_number <= m[3] for m in merged):
            continue  # reported once above, with its range
        if count > max_rows:
            errors.add(row_number, None, None, _l(
                "The sheet has more than %(max)s data rows; split the file.", max=max_rows))
            return
        values, ok = _parse_row(spec, positions, cells, row_number, errors)
        if ok is None:
            return
        if ok:
            keep(ImportedRow(spec.name, row_number, values))


def _parse_row(spec: SheetSpec, positions: Mapping[str, int], cells: Sequence[Any],
               row_number: int, errors: _Collector) -> tuple[dict[str, Any], bool | None]:
    """Parse one row; ok is False when it had an error, None when reading must stop."""
    values: dict[str, Any] = {}
    ok = True
    for column in spec.columns:
        col = positions[column.header]
        cell = cells[col - 1] if col <= len(cells) else None
        raw = getattr(cell, "value", None)
        message = None
        if getattr(cell, "data_type", None) == "f":
            message = _l("This cell holds a formula (%(formula)s); enter the value instead.",
                         formula=str(raw)[:60])
        elif _is_blank(raw):
            if column.required:
                message = _l("This cell is required.")
            values[column.key] = None
        else:
            try:
                values[column.key] = column.parser(raw)
            except CellValueError as exc:
                message = exc.message
        if message is not None:
            ok = False
            if not errors.add(row_number, col, column.header, message):
                return values, None
    return values, ok


# --- Committing ---------------------------------------------------------------

def commit_all_or_nothing(session: Any, result: ImportResult,
                          apply_fn: Callable[[Any, ImportedRow], Any], *,
                          commit: bool = True, max_errors: int = MAX_ERRORS) -> int:
    """Apply every row of ``result`` or none; returns the number of rows applied.

    ``apply_fn(session, row)`` adds or changes objects for one row and may raise
    ``RowError`` to refuse it. Each row runs in its own savepoint and is flushed,
    so a refused row, a constraint violation or a write outside the user's scope
    is reported with its sheet and row while the other rows are still checked;
    all of them sit inside one outer savepoint that is rolled back when any row
    failed (``ImportRejected`` lists why) or anything else was raised (re-raised).
    On success the session is committed unless ``commit=False``.
    """
    if result.errors:
        raise ImportRejected(result.errors)
    errors: list[CellError] = []
    outer = session.begin_nested()
    try:
        for row in result.rows:
            message, column = _apply_row(session, row, apply_fn)
            if message is not None:
                errors.append(CellError(row.sheet, row.row, None, column, message))
                if len(errors) >= max_errors:
                    break
        if errors:
            raise ImportRejected(errors)
        outer.commit()
    except BaseException:
        if outer.is_active:
            outer.rollback()
        raise
    if commit:
        try:
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return len(result.rows)


def _apply_row(session: Any, row: ImportedRow,
               apply_fn: Callable[[Any, ImportedRow], Any]) -> tuple[Any, str | None]:
    savepoint = session.begin_nested()
    try:
        apply_fn(session, row)
        session.flush()
    except RowError as exc:
        savepoint.rollback()
        return exc.message, exc.column
    except IntegrityError:
        savepoint.rollback()
        return _l("This row conflicts with existing data (a duplicate or a missing "
                  "reference)."), None
    except ScopeError as exc:
        savepoint.rollback()
        return (exc.args[0] if exc.args else _l("Outside your scope.")), None
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    savepoint.commit()
    return None, None


# --- Writing ------------------------------------------------------------------

@dataclass(frozen=True)
class ExportColumn:
    header: str
    width: float | None = None  # in characters; by default from the header
    number_format: str | None = None  # by default from the value's type


@dataclass
class ExportSheet:
    """A sheet to write: a title, its columns and an iterable of row sequences."""

    title: str
    columns: Sequence[ExportColumn | str]
    rows: Iterable[Sequence[Any]] = ()


def _display_width(textual: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in textual)


def _cell(ws: Any, value: Any, number_format: str | None) -> Any:
    if isinstance(value, float):
        raise TypeError("Exports take Decimal, not float, so amounts stay exact.")
    fmt = number_format
    if isinstance(value, bool):
        value = YES if value else NO
    elif isinstance(value, Decimal):
        fmt = fmt or MONEY_FORMAT
    elif isinstance(value, datetime):
        fmt = fmt or DATETIME_FORMAT
    elif isinstance(value, date):
        fmt = fmt or DATE_FORMAT
    elif value is not None and not isinstance(value, int | str):
        value = str(value)  # enums, lazy strings
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(ws, value)
    if cell.data_type == "f":
        cell.data_type = "s"  # text that starts with "=" stays text (formula injection)
    if fmt and value is not None:
        cell.number_format = fmt
    return cell


def write_rows(stream: Any, sheets: Sequence[ExportSheet]) -> None:
    """Write ``sheets`` as an .xlsx to ``stream`` (a path or a binary file object).

    Rows are consumed one at a time (openpyxl ``write_only``), so a query can be
    passed as an iterator. Headers are bold and frozen; Decimals are numbers
    formatted ``#,##0.00``; dates are dates; booleans are 是/否.
    """
    workbook = Workbook(write_only=True)
    try:
        _fill(workbook, sheets)
        workbook.save(stream)
    except BaseException:
        _discard(workbook)
        raise


def _discard(workbook: Workbook) -> None:
    """Close the half-written sheets of a failed export and remove their temp files."""
    for ws in workbook.worksheets:
        with contextlib.suppress(Exception):
            if not ws.closed:
                ws.close()
        with contextlib.suppress(Exception):
            ws._writer.cleanup()


def _fill(workbook: Workbook, sheets: Sequence[ExportSheet]) -> None:
    bold = Font(bold=True)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title[:31])
        columns = [c if isinstance(c, ExportColumn) else ExportColumn(c) for c in sheet.columns]
        for i, column in enumerate(columns, start=1):
            width = column.width or min(max(_display_width(column.header) + 4, 10), 60)
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = WriteOnlyCell(ws, column.header)
            cell.font, cell.alignment = bold, centre
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            ws.append([_cell(ws, value, columns[i].number_format if i < len(columns) else None)
                       for i, value in enumerate(row)])


def content_disposition(filename: str, fallback: str = "export.xlsx") -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 5987 / RFC 6266)."""
    clean = re.sub(r'[\x00-\x1f\x7f"\\/]', "_", filename)
    ascii_name = clean.encode("ascii", "ignore").decode()
    if not ascii_name.strip(" ._-") or ascii_name.startswith("."):
        ascii_name = fallback
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(clean, safe='')}"


def xlsx_response(sheets: Sequence[ExportSheet], filename: str,
                  spool_bytes: int = 8 * 1024 * 1024) -> Response:
    """A Flask response streaming the workbook (spooled to disk above ``spool_bytes``)."""
    buffer = tempfile.SpooledTemporaryFile(max_size=spool_bytes)
    try:
        write_rows(buffer, sheets)
    except BaseException:
        buffer.close()
        raise
    size = buffer.tell()
    buffer.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while data := buffer.read(64 * 1024):
                yield data
        finally:
            buffer.close()

    response = Response(chunks(), mimetype=XLSX_MIMETYPE, direct_passthrough=True)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    response.content_length = size
    response.call_on_close(buffer.close)
    return response
