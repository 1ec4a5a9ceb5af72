"""Parsers under random and hostile input (hypothesis): BOMs, mixed encodings, ragged rows,
huge cells, formula cells, NULs. Every file is either refused whole with a clear message or
read row by row, each bad row rejected with its line, column and reason; nothing raises."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.imports import values
from crm.imports.columns import detect_layout, header_key, suggest_mapping
from crm.imports.formats import ImportRefused, iter_rows, sniff
from crm.imports.rows import COLUMN_NAMES, RowContext, RowParser
from crm.models import ImportFormat
from tests.crm.imports_helpers import SAMPLES

REU_HEADER = (SAMPLES / "com41998-LCE.csv").read_text(encoding="utf-8").splitlines()[0]
REU_LINE = (SAMPLES / "com41998-LCE.csv").read_text(encoding="utf-8").splitlines()[1]
MEMBERS_HEADER = "Prénom;Nom;Email;Téléphone;Adresse;Code postal;Ville;Date de naissance"

cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["=HYPERLINK(\"http://x\")", "+33 6 12 34 56 78", "00/00/1953", "1961", "31/02/1990",
         "06 12 34 56 78", "0033 612345678", "+33 (0)6 12 34 56 78", "x" * 20_000, "Aït-Ali",
         "N'DIAYE", "\x00", "é", "@SUM(A1)", "2A004", "LCE", ""]
    ),
)  # fmt: skip
encodings = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "mixed"])


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "mixed":  # every other line in Windows-1252
        return b"\n".join(
            line.encode("cp1252", errors="replace") if i % 2 else line.encode("utf-8")
            for i, line in enumerate(text.split("\n"))
        )
    return text.encode(encoding, errors="replace")


def _read(path: Path) -> tuple[int, int]:
    """(good rows, rejected rows); raises only ImportRefused."""
    info = sniff(path, path.name)
    layout = detect_layout(info.headers)
    from crm.imports.columns import roll_mapping

    mapping = (
        roll_mapping(info.headers, layout)[0]
        if layout != ImportFormat.TABLE
        else suggest_mapping(info.headers)
    )
    parser = RowParser(
        RowContext(
            layout=layout,
            headers=info.headers,
            mapping=mapping,
            name_commune_code="41998",
            strict_width=info.kind == "csv",
        )
    )
    good = bad = 0
    for number, (line, cells) in enumerate(iter_rows(path, info), start=1):
        row, errors = parser.parse(number, line, cells)
        if row is None:
            bad += 1
            assert errors and all(e.reason and e.line >= 2 for e in errors)
        else:
            good += 1
            assert len(row) == len(COLUMN_NAMES) and not errors
            assert not any(isinstance(v, str) and v.startswith("=") for v in row)
    return good, bad


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(cell, min_size=0, max_size=30), max_size=8),
    encoding=encodings,
    newline=st.sampled_from(["\n", "\r\n"]),
    header=st.sampled_from([REU_HEADER, MEMBERS_HEADER]),
)
def test_random_rows_give_rows_or_clear_row_errors(tmp_path, rows, encoding, newline, header):
    separator = ";"
    lines = [header, REU_LINE if header == REU_HEADER else "Léa;DURAND;;;;;;"]
    lines += [separator.join(f'"{c}"' if i % 2 else c for i, c in enumerate(r)) for r in rows]
    path = tmp_path / "com41998-LP.csv"
    path.write_bytes(_encode(newline.join(lines) + newline, encoding))
    try:
        good, bad = _read(path)
    except ImportRefused as refused:
        assert str(refused)
        return
    assert good >= 0 and bad >= 0


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=3000))
def test_arbitrary_bytes_are_refused_or_read(tmp_path, content):
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    try:
        _read(path)
    except ImportRefused as refused:
        assert str(refused)


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=40))
def test_value_parsers_raise_only_field_errors(value):
    for parse in (values.birth_date, values.email, values.phone, values.member_since,
                  values.commune_code, values.polling_station, values.postcode, values.tags,
                  values.list_type):  # fmt: skip
        try:
            parse(value)
        except values.FieldError as error:
            assert str(error)
    assert values.sex(value) in ("", "M", "F")
    assert len(values.country(value)) in (0, 2)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033 612345678", "+33612345678"),
        ("612345678", "+33612345678"),
        ("07.18.89.33.60", "+33718893360"),
    ],
)
def test_french_phones_to_e164(raw, expected):
    assert values.phone(raw)[0] == expected


def test_dates_full_iso_and_partial():
    assert values.birth_date("07/04/1953").iso() == "1953-04-07"
    assert values.birth_date("1953-04-07").iso() == "1953-04-07"
    assert values.birth_date("00/00/1953").iso() == "1953"
    assert values.birth_date("1961").iso() == "1961"
    with pytest.raises(values.FieldError):
        values.birth_date("31/02/1990")


def test_headers_by_name_not_position():
    shuffled = ["Prénoms", "NOM DE NAISSANCE", "date de naissance", "Code du bureau de vote",
                "Nom d’usage", "Libellé du type de liste"]  # fmt: skip
    assert detect_layout(shuffled) == ImportFormat.REU
    assert header_key("Nom d'usage") == header_key("NomDusage") == header_key("nom d’usage")
    mapping = suggest_mapping(["E-mail", "First name", "Surname", "Mobile", "Zip"])
    assert list(mapping.values()) == ["email", "first_names", "last_name", "phone", "postcode"]


def test_bom_crlf_and_semicolon_are_sniffed(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(codecs.BOM_UTF8 + (MEMBERS_HEADER + "\r\nLéa;DURAND;;;;;;\r\n").encode())
    info = sniff(path)
    assert (info.encoding, info.delimiter, info.headers[0]) == ("utf-8-sig", ";", "Prénom")


def test_prose_and_binary_are_refused(tmp_path):
    prose = tmp_path / "notes.txt"
    prose.write_text(
        "Compte rendu de la réunion, avec beaucoup de texte libre et de virgules, "
        "qui n'est pas un tableau du tout.\nDeuxième ligne, sans rapport.\n" * 3
    )
    with pytest.raises(ImportRefused):
        sniff(prose)
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 400)
    with pytest.raises(ImportRefused, match="binaire"):
        sniff(binary)


def test_staged_keys_are_the_keys_person_computes():
    """The importer computes keys without model code: they must equal Person.compute_keys."""
    from crm.imports.columns import roll_mapping
    from crm.models import Person
    from crm.normalize import PartialDate

    info_headers = REU_HEADER.replace('"', "").split(";")
    mapping, _missing = roll_mapping(info_headers, ImportFormat.REU)
    parser = RowParser(RowContext(layout=ImportFormat.REU, headers=info_headers, mapping=mapping))
    cells = next(
        __import__("csv").reader([REU_LINE.replace("LEFÈBVRE", "LEFÈBVRE")], delimiter=";")
    )
    cells[13] = "30 bis"
    cells[4] = "Dupont-Aïté"
    row, errors = parser.parse(1, 2, cells)
    assert not errors
    staged = dict(zip(COLUMN_NAMES, row, strict=True))
    person = Person(
        first_names=staged["first_names"],
        birth_name=staged["birth_name"],
        usage_name=staged["usage_name"],
        street_number=staged["street_number"],
        street_repetition=staged["street_repetition"],
        street_name=staged["street_name"],
        postcode=staged["postcode"],
        commune_name=staged["commune_name"],
    )
    person.set_birth_date(
        PartialDate(staged["birth_year"], staged["birth_month"], staged["birth_day"])
    )
    person.compute_keys(emails=[], phones=[])
    for key in ("roll_key", "roll_usage_key", "last_name_key", "first_names_key", "address_key",
                "commune_key", "search_text"):  # fmt: skip
        assert staged[key] == getattr(person, key), key
    assert (staged["street_number"], staged["street_repetition"]) == ("30", "bis")
