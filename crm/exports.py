"""Exports of people as CSV or XLSX, shared by the staff screens and `export_people`.

Every cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is neutralised with
a leading apostrophe, in CSV and XLSX alike.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import EmailAddress, Person, PersonTag, PhoneNumber

CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

COLUMNS: dict[str, Any] = {
    "name": _("Name"),
    "first_names": _("First names"),
    "birth_name": _("Birth name"),
    "usage_name": _("Usage name"),
    "sex": _("Sex"),
    "birth_date": _("Birth date"),
    "email": _("Email"),
    "phone": _("Phone"),
    "address": _("Address"),
    "commune": _("Commune"),
    "postcode": _("Postcode"),
    "polling_station": _("Polling station"),
    "tags": _("Tags"),
    "member_status": _("Membership"),
    "supporter_status": _("Supporter status"),
    "support_level": _("Support level"),
    "created": _("Added"),
    "first_source": _("First source"),
}
SENSITIVE_COLUMNS = frozenset({"supporter_status", "support_level"})
EXPORT_COLUMNS = [
    "name",
    "first_names",
    "birth_name",
    "usage_name",
    "sex",
    "birth_date",
    "email",
    "phone",
    "address",
    "commune",
    "postcode",
    "polling_station",
    "tags",
    "member_status",
    "created",
    "first_source",
]


def neutralise(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(CSV_FORMULA_PREFIXES):
        return "'" + text
    return text


def person_cell(person: Person, column: str) -> str:
    """The text of one column for one person. Sensitive columns are empty unless the queryset
    was annotated with `can_see_sensitive` for this person."""
    if column in SENSITIVE_COLUMNS and not getattr(person, "can_see_sensitive", False):
        return ""
    if column == "name":
        return person.display_name
    if column == "email":
        email = person.primary_email
        return email.email if email else ""
    if column == "phone":
        phone = person.primary_phone
        return str(phone) if phone else ""
    if column == "commune":
        return person.commune_name
    if column == "postcode":
        return person.postcode
    if column == "polling_station":
        return person.polling_station_code
    if column == "tags":
        return ", ".join(pt.tag.name for pt in person.person_tags.all())
    if column == "member_status":
        return person.get_member_status_display() if person.member_status else ""
    if column == "supporter_status":
        return person.get_supporter_status_display() if person.supporter_status else ""
    if column == "support_level":
        return str(person.support_level or "")
    if column == "created":
        return timezone.localtime(person.created_at).strftime("%d/%m/%Y")
    if column == "first_source":
        return person.first_source
    if column == "birth_date":
        return person.birth_date.display()
    if column == "address":
        street = " ".join(
            p for p in (person.street_number, person.street_repetition, person.street_name) if p
        )
        return ", ".join(p for p in (person.address_complement, street, person.locality) if p)
    if column in ("first_names", "birth_name", "usage_name", "sex"):
        return str(getattr(person, column))
    return ""


def with_contacts(people: QuerySet[Person], tags: QuerySet[PersonTag] | None = None) -> Any:
    return people.prefetch_related(
        Prefetch("emails", queryset=EmailAddress.objects.order_by("-is_primary", "id")),
        Prefetch("phones", queryset=PhoneNumber.objects.order_by("-is_primary", "id")),
        Prefetch(
            "person_tags",
            queryset=(tags if tags is not None else PersonTag.objects.all()).select_related("tag"),
        ),
    )


def table(people: Iterable[Person], columns: Sequence[str]) -> Iterator[list[str]]:
    """Header then one neutralised row per person."""
    yield ["id", *[str(COLUMNS[c]) for c in columns]]
    for person in people:
        yield [str(person.pk), *[neutralise(person_cell(person, c)) for c in columns]]


def write_csv(rows: Iterable[Sequence[str]], path: Path) -> int:
    count = -1
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        for row in rows:
            writer.writerow(row)
            count += 1
    return max(count, 0)


def write_xlsx(rows: Iterable[Sequence[str]], target: Any) -> int:
    """Streamed (write-only) workbook; every value is written as text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(_("People")))
    count = -1
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    workbook.save(target)
    return max(count, 0)
