"""Rows: one line of a file, through its column mapping, into one staging tuple or a list of
errors naming the column and the reason.

The staging tuple carries the values as the CRM stores them and the matching keys computed
with `crm.normalize` exactly as `Person.compute_keys` does, so the set-based merge never needs
Python per row again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from crm.imports import values
from crm.imports.formats import MAX_CELL, RowProblem
from crm.models import ImportFormat
from crm.normalize import keyed_hash

# The columns a parsed row fills in the staging table, in order (name, SQL type).
INPUT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rownum", "int"),
    ("line", "int"),
    ("ext_value", "text"),
    ("email", "text"),
    ("email_skey", "text"),
    ("phone", "text"),
    ("phone_kind", "text"),
    ("phone_skey", "text"),
    ("phone2", "text"),
    ("phone2_kind", "text"),
    ("phone2_skey", "text"),
    ("sex", "text"),
    ("first_names", "text"),
    ("birth_name", "text"),
    ("usage_name", "text"),
    ("birth_year", "int"),
    ("birth_month", "int"),
    ("birth_day", "int"),
    ("birth_place_code", "text"),
    ("birth_place_name", "text"),
    ("birth_department", "text"),
    ("birth_country", "text"),
    ("nationality", "text"),
    ("street_number", "text"),
    ("street_repetition", "text"),
    ("street_name", "text"),
    ("address_complement", "text"),
    ("locality", "text"),
    ("postcode", "text"),
    ("commune_code", "text"),
    ("commune_name", "text"),
    ("country", "text"),
    ("polling_station_code", "text"),
    ("polling_station_label", "text"),
    ("list_type", "text"),
    ("list_commune", "text"),
    ("order_number", "int"),
    ("member_since", "text"),
    ("tags", "text"),
    ("roll_key", "text"),
    ("roll_usage_key", "text"),
    ("last_name_key", "text"),
    ("first_names_key", "text"),
    ("address_key", "text"),
    ("commune_key", "text"),
    ("search_text", "text"),
    ("first_token", "text"),
    ("bp_key", "text"),
    ("link1", "text"),
    ("link2", "text"),
)
COLUMN_NAMES = tuple(name for name, _type in INPUT_COLUMNS)

# Person fields an import fills, with their maximum length.
TEXT_LIMITS = {
    "first_names": 200,
    "last_name": 200,
    "birth_name": 200,
    "usage_name": 200,
    "birth_place_code": 5,
    "birth_place_name": 200,
    "birth_department": 3,
    "birth_country": 100,
    "nationality": 100,
    "street_type": 60,
    "street_name": 200,
    "address_complement": 200,
    "address_complement2": 200,
    "locality": 200,
    "commune_name": 200,
    "polling_station_label": 200,
    "list_commune_name": 200,
    "external_id": 100,
}


def _address_key(number: str, repetition: str, street: str, complement: str, postcode: str) -> str:
    """crm.normalize.address_key with the cached name keys (tests check they agree)."""
    key = values.cached_name_key
    street_part = key(street)
    if not street_part or not postcode.strip():
        return ""
    return "|".join((key(number), key(repetition), street_part, key(complement), postcode.strip()))


@dataclass
class RowError:
    line: int
    column: str
    value: str
    reason: str


@dataclass
class RowContext:
    """What a row takes from its file and its run, not from its cells."""

    layout: str
    headers: Sequence[str]
    mapping: dict[int, str]
    name_commune_code: str = ""
    name_list_type: str = ""
    default_commune_code: str = ""
    strict_width: bool = True  # CSV rows must have the header's width; spreadsheets pad
    # Keyed hashes of the roll identities of people erased on request (refused from rolls).
    opposed: frozenset[str] = frozenset()


class RowParser:
    def __init__(self, context: RowContext) -> None:
        self.context = context
        self.is_roll = context.layout in (ImportFormat.REU, ImportFormat.REU2013)
        self.index = {field: i for i, field in context.mapping.items()}
        self.width = len(context.headers)
        self.key = settings.CRM_SUPPRESSION_KEY or settings.SECRET_KEY

    def _opposed(self, *identities: str) -> bool:
        return any(
            keyed_hash("roll", identity, self.key) in self.context.opposed
            for identity in identities
            if identity
        )

    def _header(self, field: str) -> str:
        index = self.index.get(field)
        if index is None or index >= len(self.context.headers):
            return field
        return str(self.context.headers[index])

    def parse(
        self, rownum: int, line: int, cells: list[str] | RowProblem
    ) -> tuple[tuple[Any, ...] | None, list[RowError]]:
        """(staging tuple, []) for a good row; (None, errors) for a rejected one."""
        if isinstance(cells, RowProblem):
            return None, [RowError(line, "", "", _("unreadable line: %(e)s") % {"e": cells.reason})]
        width = len(cells)
        if width != self.width:
            extra = [c for c in cells[self.width :] if c.strip()]
            if width > self.width and extra:
                return None, [
                    RowError(
                        line,
                        "",
                        extra[0][:200],
                        _("this row has %(n)s cells, the header has %(m)s")
                        % {"n": width, "m": self.width},
                    )
                ]
            if width < self.width and self.context.strict_width:
                return None, [
                    RowError(
                        line,
                        "",
                        "",
                        _("this row has %(n)s cells, the header has %(m)s")
                        % {"n": width, "m": self.width},
                    )
                ]
            cells = (list(cells) + [""] * self.width)[: self.width]
        errors: list[RowError] = []
        raw: dict[str, str] = {}
        for field, index in self.index.items():
            cell = cells[index]
            if len(cell) > MAX_CELL:
                errors.append(
                    RowError(
                        line,
                        self._header(field),
                        cell[:50] + "…",
                        _("cell too long (%(n)s characters)") % {"n": len(cell)},
                    )
                )
                cell = ""
            raw[field] = cell
        out: dict[str, Any] = {}

        def clean(field: str, function: Any, *args: Any) -> Any:
            value = raw.get(field, "")
            try:
                return function(value, *args)
            except values.FieldError as error:
                errors.append(RowError(line, self._header(field), value[:200], str(error)))
                return function("", *args) if function is not values.text else ""

        text = values.text
        for field, limit in TEXT_LIMITS.items():
            value = raw.get(field)
            if value is None:
                continue
            if value.isascii() and len(value) <= limit and not value.startswith(("=", " ")):
                out[field] = value.rstrip() if "\x00" not in value else clean(field, text, limit)
            else:
                out[field] = clean(field, text, limit)
        birth = clean("birth_date", values.birth_date) if "birth_date" in raw else None
        email = clean("email", values.email) if "email" in raw else ""
        phone, phone_kind = clean("phone", values.phone) if "phone" in raw else ("", "")
        phone2, phone2_kind = clean("phone2", values.phone) if "phone2" in raw else ("", "")
        if phone2 == phone:
            phone2, phone2_kind = "", ""
        since = clean("member_since", values.member_since) if "member_since" in raw else None
        sex = values.sex(raw.get("sex", ""))
        postcode = clean("postcode", values.postcode) if "postcode" in raw else ""
        station = (
            clean("polling_station_code", values.polling_station)
            if "polling_station_code" in raw
            else ""
        )
        country = values.country(raw.get("country", ""))
        tags = clean("tags", values.tags) if "tags" in raw else ""
        order = values.order_number(raw.get("order_number", ""))

        # Address: one 'address' column, or number (+ type) + street.
        number = repetition = ""
        street = out.get("street_name", "")
        if "street_number" in raw:
            try:
                number, repetition = values.split_number(raw["street_number"])
            except values.FieldError as error:
                errors.append(
                    RowError(line, self._header("street_number"), raw["street_number"], str(error))
                )
        if out.get("street_type"):
            street = f"{out['street_type']} {street}".strip()
        if "address" in raw and not street:
            try:
                number, repetition, street = values.split_address(values.text(raw["address"], 260))
            except values.FieldError as error:
                errors.append(RowError(line, self._header("address"), raw["address"], str(error)))
            if len(street) > 200:
                errors.append(
                    RowError(line, self._header("address"), raw["address"][:200], _("too long"))
                )
        complement = " ".join(
            c for c in (out.get("address_complement", ""), out.get("address_complement2", "")) if c
        )[:200]

        # Names: a members file's "Nom" is a birth name or a usage name; it is stored as the
        # birth name and matched as either.
        birth_name = out.get("birth_name") or out.get("last_name", "")
        usage_name = out.get("usage_name", "")
        first_names = out.get("first_names", "")

        # Commune of the roll (registration) and of the address.
        list_commune = ""
        commune = ""
        try:
            if self.context.layout == ImportFormat.REU2013:
                list_commune = values.commune_from_parts(
                    raw.get("department_code", ""), raw.get("commune_code", "")
                )
            else:
                list_commune = values.commune_code(raw.get("list_commune_code", ""))
                commune = values.commune_code(raw.get("commune_code", ""))
        except values.FieldError as error:
            column = "commune_code" if "commune_code" in raw else "list_commune_code"
            errors.append(RowError(line, self._header(column), raw.get(column, ""), str(error)))
        list_type = ""
        if self.is_roll:
            list_commune = (
                list_commune or self.context.name_commune_code or self.context.default_commune_code
            )
            commune = commune or list_commune
            list_type = clean("list_type", values.list_type) if "list_type" in raw else ""
            list_type = list_type or self.context.name_list_type or "LP"
            if not list_commune:
                errors.append(
                    RowError(
                        line,
                        "",
                        "",
                        _(
                            "the roll's commune is unknown: no commune code column, none in "
                            "the file name (com41998-LP.csv) and none on the campaign"
                        ),
                    )
                )
            for field in ("birth_name", "first_names"):
                if not out.get(field) and field in self.index:
                    errors.append(RowError(line, self._header(field), "", _("missing")))
        commune_name = out.get("commune_name", "") or out.get("list_commune_name", "")
        external_id = out.get("external_id", "")

        if not errors and not (
            (first_names and (birth_name or usage_name)) or email or phone or external_id
        ):
            errors.append(
                RowError(
                    line,
                    "",
                    "",
                    _("this row names nobody: it needs names, an email, a phone or an id"),
                )
            )
        if errors:
            return None, errors

        key = values.cached_name_key
        first_key = key(first_names)
        birth_key = key(birth_name)
        usage_key = key(usage_name) if usage_name else ""
        roll_key = roll_usage_key = link1 = link2 = ""
        year = month = day = None
        if birth is not None:
            year, month, day = birth.year, birth.month, birth.day
            if first_key and birth.is_full:
                iso = birth.iso()
                if birth_key:
                    roll_key = link1 = f"{birth_key}|{first_key}|{iso}"
                if usage_key:
                    roll_usage_key = link2 = f"{usage_key}|{first_key}|{iso}"
            elif first_key and year:
                iso = birth.iso()
                link1 = f"P:{birth_key}|{first_key}|{iso}" if birth_key else ""
                link2 = f"P:{usage_key}|{first_key}|{iso}" if usage_key else ""
        if self.is_roll and self.context.opposed and self._opposed(roll_key, roll_usage_key):
            return None, [RowError(line, "", "", _(
                "this person had their data erased and objected to being contacted: not imported"
            ))]  # fmt: skip
        bp_code = out.get("birth_place_code", "")
        bp_name = out.get("birth_place_name", "")
        bp_key = bp_code or (key(bp_name) if bp_name else "")
        commune_key = key(commune_name) if commune_name else ""
        phones = [p for p in (phone, phone2) if p]
        fold = values.cached_fold
        words = [
            fold(first_names),
            fold(birth_name),
            fold(usage_name),
            commune_key,
            postcode,
            email,
            *(p.lstrip("+") for p in phones),
            *("0" + p[3:] for p in phones if p.startswith("+33")),
        ]
        search_text = " ".join(w.lower() for w in words if w)
        secret = self.key
        return (
            rownum,
            line,
            external_id,
            email,
            keyed_hash("email", email, secret) if email else "",
            phone,
            phone_kind,
            keyed_hash("phone", phone, secret) if phone else "",
            phone2,
            phone2_kind,
            keyed_hash("phone", phone2, secret) if phone2 else "",
            sex,
            first_names,
            birth_name,
            usage_name,
            year,
            month,
            day,
            bp_code,
            bp_name,
            out.get("birth_department", ""),
            out.get("birth_country", ""),
            out.get("nationality", ""),
            number,
            repetition,
            street,
            complement,
            out.get("locality", ""),
            postcode,
            commune,
            commune_name,
            country,
            station,
            out.get("polling_station_label", ""),
            list_type,
            list_commune,
            order,
            since.isoformat() if since else "",
            tags,
            roll_key,
            roll_usage_key,
            usage_key or birth_key,
            first_key,
            _address_key(number, repetition, street, complement, postcode),
            commune_key,
            search_text,
            first_key.split(" ", 1)[0] if first_key else "",
            bp_key,
            link1,
            link2,
        ), []
