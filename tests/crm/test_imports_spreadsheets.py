"""Members files as XLSX and ODS: dates in date cells, phones that lost their leading zero,
formula cells refused, and the undo of an import that updated known people."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from openpyxl import Workbook

from crm.imports import services
from crm.models import CampaignAttachment, Person
from tests.crm.imports_helpers import import_bytes, import_file

pytestmark = pytest.mark.django_db

ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Adhérents">
{rows}
</table:table></office:spreadsheet></office:body></office:document-content>"""


def ods(rows: list[list[str]]) -> bytes:
    cells = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>'
            for c in row
        )
        + "</table:table-row>"
        for row in rows
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", ODS_CONTENT.format(rows=cells))
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return buffer.getvalue()


def test_xlsx_members_file(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    book = Workbook()
    sheet = book.active
    sheet.append(["Prénom", "Nom", "E-mail", "Portable", "Né le", "Adhérent depuis"])
    sheet.append(["Léa", "Aït-Ali", "LEA@EXEMPLE.FR", 612345678, dt.date(1990, 5, 4), 2019])
    sheet.append(["=cmd|' /C calc'!A0", "Durand", "x@exemple.fr", "", "", ""])
    sheet.append(["Jean", "Dupont", "jean@exemple.fr", "06 00 00 00 01", "1961", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    run = import_bytes(buffer.getvalue(), "adherents.xlsx", campaign=alpha)
    # A formula cell is read as its computed value (none here), never as a formula.
    assert (run.file_info["kind"], run.rows, run.created, run.errors) == ("xlsx", 3, 3, 0)
    assert not Person.objects.filter(first_names__startswith="=").exists()
    lea = Person.objects.get(emails__email="lea@exemple.fr")
    assert (lea.birth_name, lea.birth_date.iso(), lea.member_status) == (
        "Aït-Ali",
        "1990-05-04",
        "member",
    )
    assert lea.member_since == dt.date(2019, 1, 1)
    assert list(lea.phones.values_list("e164", flat=True)) == ["+33612345678"]
    jean = Person.objects.get(emails__email="jean@exemple.fr")
    assert (jean.birth_year, jean.birth_month) == (1961, None)


def test_ods_members_file(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    content = ods([["Prénom", "Nom", "Courriel"], ["Zoé", "N'Diaye", "zoe@exemple.fr"]])
    run = import_bytes(content, "adherents.ods", campaign=alpha)
    assert (run.file_info["kind"], run.created) == ("ods", 1)
    assert Person.objects.get().first_names == "Zoé"


def test_undo_removes_what_it_created_and_restores_what_it_changed(
    alpha, bravo, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    roll = import_file("com41998-LCM.csv", campaign=alpha)
    known = Person.objects.get(birth_name="BLANC", first_names="Noël")
    before = (known.street_name, known.polling_station_code, known.member_status)
    members = (
        "Prénom;Nom;Email;Téléphone;Date de naissance\n"
        "Noël;BLANC;noel.blanc@exemple.fr;06 11 22 33 44;13/02/1942\n"
        "Nouvelle;PERSONNE;nouvelle@exemple.fr;;01/01/1990\n"
    )
    run = import_bytes(members.encode(), "adherents.csv", campaign=bravo, tags=["Adhérents"])
    assert (run.created, run.updated) == (1, 1)
    known.refresh_from_db()
    assert known.member_status == "member" and known.emails.exists()
    assert CampaignAttachment.objects.filter(person=known, campaign=bravo).exists()
    services.undo_import(run, actor=None)
    known.refresh_from_db()
    assert (known.street_name, known.polling_station_code, known.member_status) == before
    assert not known.emails.exists() and not known.phones.exists()
    assert not known.person_tags.exists()
    assert not CampaignAttachment.objects.filter(person=known, campaign=bravo).exists()
    assert not Person.objects.filter(birth_name="PERSONNE").exists()
    assert Person.objects.count() == roll.created
    assert "noel.blanc@exemple.fr" not in known.search_text


def test_csv_formula_cell_is_a_row_error(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    content = (
        'Prénom;Nom;Email\n=HYPERLINK("http://x");DURAND;a@exemple.fr\nLéa;MARTIN;b@exemple.fr\n'
    )
    run = import_bytes(content.encode(), "membres.csv", campaign=alpha)
    assert (run.created, run.errors) == (1, 1)
    error = run.row_errors.get()
    assert (error.row_number, error.column) == (2, "Prénom") and "formule" in error.reason
