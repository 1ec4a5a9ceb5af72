"""export_people (CSV, XLSX) and the admin's XLSX export: formulas neutralised, scoped."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


def test_export_people_command_neutralises_formulas(alpha, bravo, make_person, tmp_path):
    make_person(alpha, emails=("a@exemple.fr",), first_names="=1+1", birth_name="@SUM(A1)")
    make_person(bravo, emails=("b@exemple.fr",), first_names="Léa", birth_name="Autre")
    target = tmp_path / "people.xlsx"
    call_command("export_people", str(target), "--campaign", alpha.slug, stdout=StringIO())
    sheet = load_workbook(target).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(rows) == 2
    assert "'=1+1" in rows[1] and "'@SUM(A1)" in rows[1] and "a@exemple.fr" in rows[1]
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value)
    csv_target = tmp_path / "people.csv"
    call_command("export_people", str(csv_target), stdout=StringIO())
    text = csv_target.read_text(encoding="utf-8-sig")
    assert "'=1+1" in text and "b@exemple.fr" in text


def test_admin_xlsx_export_is_scoped(alpha, bravo, make_person, make_staff, login):
    make_person(alpha, emails=("a@exemple.fr",), first_names="+Cmd", birth_name="Un")
    make_person(bravo, emails=("b@exemple.fr",), first_names="Léa", birth_name="Autre")
    client = login(make_staff(alpha))
    response = client.get("/admin/crm/people/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "a@exemple.fr" in values and "b@exemple.fr" not in values
    assert "'+Cmd Un" in values
