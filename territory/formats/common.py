"""What every French open-data file needs: encoding and separator sniffing, header names
compared without accents or punctuation, French numbers, clear errors."""

from __future__ import annotations

import csv
import gzip
import io
import lzma
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _


class FormatError(ValueError):
    """Bad input: says which file, line and field, so the user can fix it."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None):
        self.line = line
        self.field = field
        where = []
        if line is not None:
            where.append(_("line %(line)s") % {"line": line})
        if field:
            where.append(_("field “%(field)s”") % {"field": field})
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


def open_bytes(path: str | Path) -> bytes:
    """The file's bytes, decompressed when it ends in .gz or .xz."""
    path = Path(path)
    if not path.exists():
        raise FormatError(_("file not found: %(path)s") % {"path": path})
    raw = path.read_bytes()
    if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if path.suffix == ".xz" or raw[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(raw)
    return raw


def decode(raw: bytes) -> tuple[str, str]:
    """Text and the encoding it was in: UTF-8 (with or without BOM), else Windows-1252 or
    Latin-1 (the Ministry's older files)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def sniff_delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best] == 0:
        raise FormatError(_("no column separator found in the header line"), line=1)
    return best


def read_rows(path: str | Path) -> tuple[list[str], Iterator[tuple[int, list[str]]], str]:
    """Header, an iterator of (line number, fields) and the encoding of a delimited file."""
    text, encoding = decode(open_bytes(path))
    first_line = text.split("\n", 1)[0]
    delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FormatError(_("the file is empty")) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        for fields in reader:
            if not any(field.strip() for field in fields):
                continue
            yield reader.line_num, fields

    return header, rows(), encoding


def strip_accents(value: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_header(name: str) -> str:
    """'Code du b.vote' -> 'code_du_b_vote'; 'N°Panneau' -> 'n_panneau'."""
    return _NON_ALNUM.sub("_", strip_accents(name).lower()).strip("_")


def parse_int(value: str, *, line: int, field: str, required: bool = True) -> int | None:
    cleaned = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if cleaned == "":
        if required:
            raise FormatError(_("a number is required"), line=line, field=field)
        return None
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        number = float(cleaned.replace(",", "."))
    except ValueError:
        raise FormatError(
            _("“%(value)s” is not a number") % {"value": value}, line=line, field=field
        ) from None
    if number != int(number) or number < 0:
        raise FormatError(
            _("“%(value)s” is not a whole number") % {"value": value}, line=line, field=field
        )
    return int(number)


SUPPRESSED = {"", "ns", "nd", "s", "nc", "na", "-", "x"}


def parse_decimal(value: str, *, line: int, field: str) -> float | None:
    """French decimals ("2350,21", "71,74%"); INSEE's suppressed values (ns, nd) are None."""
    cleaned = value.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if cleaned.lower() in SUPPRESSED:
        return None
    cleaned = cleaned.rstrip("%").replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        raise FormatError(
            _("“%(value)s” is not a number") % {"value": value}, line=line, field=field
        ) from None
