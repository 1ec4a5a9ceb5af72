"""Formats: what a file is (CSV in any encoding and separator, XLSX, ODS, XLS), and readers that
stream its rows as lists of text cells.

A file that is neither a table nor a roll is refused with `ImportRefused` before anything is
read further. Broken rows inside a good file are not refused here: the reader yields them (or
a `RowProblem`) and the row parser reports them one by one.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

HEAD_BYTES = 256 * 1024
MAX_CELL = 10_000  # characters: longer cells are refused row by row
MAX_COLUMNS = 500
DELIMITERS = (";", ",", "\t", "|")
FALLBACK_ENCODING = "cp1252"
ERROR_HANDLER = "cocarde_cp1252_fallback"

csv.field_size_limit(MAX_CELL * 10)


class ImportRefused(Exception):
    """The whole file is refused (not a table, empty, unreadable); the message says why."""


@dataclass
class RowProblem:
    """A row the reader could not even split into cells."""

    line: int
    reason: str


@dataclass
class FileInfo:
    kind: str  # csv, xlsx, ods, xls
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    headers: list[str] = field(default_factory=list)
    header_line: int = 1
    name_commune_code: str = ""
    name_list_type: str = ""
    name_export_date: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "sheet": self.sheet,
            "header_line": self.header_line,
            "name_commune_code": self.name_commune_code,
            "name_list_type": self.name_list_type,
            "name_export_date": self.name_export_date,
        }


# --- decoding: UTF-8, with stray Windows-1252 bytes read as such ---------------------------


class _FallbackCounter:
    count = 0


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8 in a UTF-8 file are read as Windows-1252 (a file assembled from
    two exports); bytes Windows-1252 leaves undefined are read as Latin-1."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    _FallbackCounter.count += len(chunk)
    return chunk.decode(FALLBACK_ENCODING, errors="replace").replace(
        "\ufffd", chunk.decode("latin-1")
    ), error.end


codecs.register_error(ERROR_HANDLER, _cp1252_fallback)


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if error.start < len(head) - 4:
            return FALLBACK_ENCODING
    return "utf-8"


# --- file names: com41998-LP.csv, 41998_LCE_01-03-2026.csv ---------------------------------

_NAME_COMMUNE = re.compile(r"com[-_ ]?((?:\d{2}|2[AB])\d{3})", re.IGNORECASE)
_NAME_LIST = re.compile(r"(?<![A-Za-z])(LP|LCM|LCE)(?![A-Za-z])", re.IGNORECASE)
_NAME_DATE = re.compile(r"(\d{2})-(\d{2})-(\d{4})")


def info_from_name(name: str, info: FileInfo) -> None:
    stem = Path(name).name
    if match := _NAME_COMMUNE.search(stem):
        info.name_commune_code = match.group(1).upper()
    if match := _NAME_LIST.search(stem):
        info.name_list_type = match.group(1).upper()
    if match := _NAME_DATE.search(stem):
        day, month, year = match.groups()
        info.name_export_date = f"{year}-{month}-{day}"


# --- sniffing ------------------------------------------------------------------------------


def _split_header(line: str) -> tuple[str, list[str]]:
    """The separator used in a header line (outside quotes), and the header cells."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    delimiter = max(DELIMITERS, key=lambda d: counts[d])
    if not counts[delimiter]:
        delimiter = ""
    cells = next(csv.reader([line], delimiter=delimiter or ";"))
    return delimiter, [c.strip() for c in cells]


def sniff(path: Path | str, original_name: str = "") -> FileInfo:
    """What the file is. Raises ImportRefused with a clear message when it is no table."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.strip():
        raise ImportRefused(_("The file is empty."))
    if head.startswith(b"PK\x03\x04"):
        info = _sniff_zip(path)
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        info = FileInfo("xls")
    elif head.startswith(b"%PDF"):
        raise ImportRefused(_("This is a PDF document, not a table: export the list as CSV."))
    else:
        info = _sniff_text(head)
    info_from_name(original_name or path.name, info)
    if info.kind != "csv":
        info.headers, info.header_line = _spreadsheet_headers(path, info)
    if len([h for h in info.headers if h]) == 0:
        raise ImportRefused(_("The first line holds no column names."))
    if len(info.headers) > MAX_COLUMNS:
        raise ImportRefused(
            _("The file has %(n)s columns; a table of people has far fewer.")
            % {"n": len(info.headers)}
        )
    return info


def _sniff_zip(path: Path) -> FileInfo:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return FileInfo("xlsx")
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100]
                if b"opendocument.spreadsheet" in mimetype:
                    return FileInfo("ods")
    except (zipfile.BadZipFile, OSError, KeyError) as error:
        raise ImportRefused(_("This ZIP archive is damaged or unreadable.")) from error
    raise ImportRefused(
        _("This is a ZIP archive or a document, not a spreadsheet (XLSX, ODS) or a CSV file.")
    )


def _sniff_text(head: bytes) -> FileInfo:
    encoding = detect_encoding(head)
    if encoding != "utf-16" and b"\x00" in head[:4096].replace(b"\x00\x00", b"\x00"):
        nul_share = head[:4096].count(b"\x00") / max(1, len(head[:4096]))
        if nul_share > 0.01:
            raise ImportRefused(
                _("This is not a text table (binary content): export it as CSV, XLSX or ODS.")
            )
    text = head.decode(encoding if encoding != "utf-16" else "utf-16", errors=ERROR_HANDLER)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ImportRefused(_("The file is empty."))
    delimiter, headers = _split_header(lines[0])
    info = FileInfo("csv", encoding=encoding, delimiter=delimiter, headers=headers)
    if delimiter:
        # A table has the same number of columns on (nearly) every line.
        sample = lines[1:200]
        if len(head) >= HEAD_BYTES and len(sample) == len(lines) - 1:
            sample = sample[:-1]  # the last line of a cut sample may be cut too
        if sample:
            widths = [len(r) for r in csv.reader(sample, delimiter=delimiter)]
            regular = sum(1 for w in widths if w == len(headers))
            if regular < len(widths) * 0.5:
                raise ImportRefused(
                    _(
                        "This does not look like a table: its lines do not have the "
                        "%(n)s columns of its first line."
                    )
                    % {"n": len(headers)}
                )
    elif len(lines) > 1 and any(len(line) > 200 for line in lines[:20]):
        raise ImportRefused(
            _("This does not look like a table: no column separator (; , tab) was found.")
        )
    return info


# --- readers -------------------------------------------------------------------------------


def _text_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _spreadsheet_rows(path: Path, info: FileInfo) -> Iterator[list[str]]:
    if info.kind == "xlsx":
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # any parser failure means "unreadable"
            raise ImportRefused(_("This XLSX file cannot be read: %(e)s") % {"e": error}) from error
        try:
            sheet = workbook.worksheets[0]
            info.sheet = sheet.title
            for row in sheet.iter_rows(values_only=True):
                yield [_text_cell(v) for v in row]
        finally:
            workbook.close()
        return
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as error:
        raise ImportRefused(_("This spreadsheet cannot be read: %(e)s") % {"e": error}) from error
    info.sheet = workbook.sheet_names[0] if workbook.sheet_names else ""
    for row in sheet.iter_rows():
        yield [_text_cell(v) for v in row]


def _spreadsheet_headers(path: Path, info: FileInfo) -> tuple[list[str], int]:
    for number, row in enumerate(_spreadsheet_rows(path, info), start=1):
        cells = [c.strip() for c in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            return cells, number
        if number > 20:
            break
    raise ImportRefused(_("The spreadsheet's first sheet is empty."))


def open_text(path: Path, info: FileInfo) -> IO[str]:
    _FallbackCounter.count = 0
    return io.TextIOWrapper(
        path.open("rb"), encoding=info.encoding, errors=ERROR_HANDLER, newline=""
    )


def fallback_bytes() -> int:
    """How many bytes of the last text file were read as Windows-1252 inside a UTF-8 file."""
    return _FallbackCounter.count


def iter_rows(path: Path | str, info: FileInfo) -> Iterator[tuple[int, list[str] | RowProblem]]:
    """(line number, cells) for every data row after the header; blank rows are skipped."""
    path = Path(path)
    if info.kind == "csv":
        yield from _csv_rows(path, info)
        return
    for number, row in enumerate(_spreadsheet_rows(path, info), start=1):
        if number <= info.header_line:
            continue
        if any(cell.strip() for cell in row):
            yield number, row


def _csv_rows(path: Path, info: FileInfo) -> Iterator[tuple[int, list[str] | RowProblem]]:
    with open_text(path, info) as text:
        reader = csv.reader(text, delimiter=info.delimiter or ";", strict=False)
        header_seen = False
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield reader.line_num, RowProblem(reader.line_num, str(error))
                continue
            if not header_seen:
                if any(cell.strip() for cell in row):
                    header_seen = True
                continue
            if not row or not any(cell.strip() for cell in row):
                continue
            yield reader.line_num, row
