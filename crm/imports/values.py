"""Values: each cell of a row turned into what the CRM stores, or a clear reason why not.

Names are kept exactly as written (only Unicode-composed and stripped); they are compared
through `crm.normalize` keys. Dates accept JJ/MM/AAAA, ISO and partial forms; phones every
French form, to E.164; emails are normalised.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata

from django.utils.translation import gettext as _

from crm.normalize import (
    NormalisationError,
    PartialDate,
    fold,
    name_key,
    normalise_email,
    normalise_phone,
    parse_birth_date,
)


class FieldError(ValueError):
    """A cell that cannot be stored; the message is for the person who made the file."""


cached_name_key = functools.lru_cache(maxsize=131_072)(name_key)
cached_fold = functools.lru_cache(maxsize=131_072)(fold)


def text(value: str, max_length: int) -> str:
    value = value.strip()
    if not value:
        return ""
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    if value.startswith("="):
        raise FieldError(_("looks like a spreadsheet formula, not a value"))
    if len(value) > max_length:
        raise FieldError(_("too long (%(n)s characters at most)") % {"n": max_length})
    if "\x00" in value:
        raise FieldError(_("contains a NUL character"))
    return value


@functools.lru_cache(maxsize=65_536)
def birth_date(value: str) -> PartialDate | None:
    value = value.strip()
    if not value:
        return None
    if len(value) > 10 and value[10:].strip() in ("00:00", "00:00:00"):
        value = value[:10]
    try:
        return parse_birth_date(value)
    except NormalisationError as error:
        raise FieldError(
            _("not a date (DD/MM/YYYY, YYYY-MM-DD, 00/00/YYYY or YYYY expected)")
        ) from error


def member_since(value: str) -> dt.date | None:
    date = birth_date(value)
    if date is None:
        return None
    try:
        return dt.date(date.year or 1, date.month or 1, date.day or 1)
    except ValueError as error:
        raise FieldError(_("not a date")) from error


def email(value: str) -> str:
    try:
        return normalise_email(value)
    except NormalisationError as error:
        raise FieldError(_("not an email address")) from error


def phone(value: str) -> tuple[str, str]:
    """(E.164, kind) or ('', '') when empty."""
    value = value.strip()
    if not value:
        return "", ""
    digits = re.sub(r"\D", "", value)
    # Spreadsheets drop the leading zero of 06 12 34 56 78 stored as a number.
    if len(digits) == 9 and digits[0] in "1234567890" and value.strip().isdigit():
        value = "0" + digits
    # '+33 (0)6 12…': the (0) is a trunk prefix that must go.
    value = value.replace("(0)", "")
    try:
        parsed = normalise_phone(value)
    except NormalisationError as error:
        raise FieldError(_("not a phone number")) from error
    if parsed is None:
        return "", ""
    return parsed.e164, parsed.kind


_SEX = {
    "M": "M",
    "H": "M",
    "HOMME": "M",
    "MASCULIN": "M",
    "MALE": "M",
    "MAN": "M",
    "MR": "M",
    "MONSIEUR": "M",
    "F": "F",
    "FEMME": "F",
    "FEMININ": "F",
    "FEMALE": "F",
    "WOMAN": "F",
    "MME": "F",
    "MADAME": "F",
    "MLLE": "F",
    "MADEMOISELLE": "F",
    "MRS": "F",
    "MS": "F",
    "MISS": "F",
}


def sex(value: str) -> str:
    """'M', 'F' or '' (another answer is not an error: it is simply not recorded)."""
    return _SEX.get(name_key(value).replace(" ", ""), "")


def list_type(value: str) -> str:
    key = name_key(value).replace(" ", "")
    if not key:
        return ""
    if key in ("LP", "LCM", "LCE"):
        return key
    if "MUNICIPA" in key:
        return "LCM"
    if "EUROPE" in key:
        return "LCE"
    if "PRINCIPAL" in key or "GENERAL" in key:
        return "LP"
    raise FieldError(_("unknown list type (principale, complémentaire municipale or européenne)"))


_COMMUNE = re.compile(r"^(?:\d{2}|2[AB])\d{3}$")


def commune_code(value: str) -> str:
    value = value.strip().upper()
    if not value:
        return ""
    if value.isdigit() and len(value) == 4:
        value = "0" + value  # a spreadsheet ate the leading zero (01001 -> 1001)
    if not _COMMUNE.match(value):
        raise FieldError(_("not an INSEE commune code (5 characters, e.g. 41018 or 2A004)"))
    return value


def commune_from_parts(department: str, commune: str) -> str:
    """The 2013 layout splits the INSEE code: CodeDepartement 41 + CodeCommune 998."""
    department, commune = department.strip().upper(), commune.strip().upper()
    if not commune:
        return ""
    if len(commune) == 5:
        return commune_code(commune)
    if department.isdigit() and len(department) == 1:
        department = "0" + department
    combined = department + commune.zfill(5 - len(department))
    return commune_code(combined)


def polling_station(value: str) -> str:
    """'1' and '0001' are one bureau: numeric codes are padded to 4 digits."""
    value = value.strip().upper()
    if not value:
        return ""
    if value.isdigit():
        value = value.zfill(4)
    if len(value) > 10:
        raise FieldError(_("too long for a polling station code"))
    return value


def postcode(value: str) -> str:
    value = value.strip().replace(" ", "")
    if value.isdigit() and len(value) == 4:
        value = "0" + value
    if len(value) > 10:
        raise FieldError(_("too long for a postcode"))
    return value


def order_number(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 9 else None


_COUNTRIES = {
    "FRANCE": "FR",
    "FR": "FR",
    "BELGIQUE": "BE",
    "BELGIUM": "BE",
    "ALLEMAGNE": "DE",
    "GERMANY": "DE",
    "ESPAGNE": "ES",
    "SPAIN": "ES",
    "ITALIE": "IT",
    "ITALY": "IT",
    "PORTUGAL": "PT",
    "LUXEMBOURG": "LU",
    "SUISSE": "CH",
    "SWITZERLAND": "CH",
    "PAYS BAS": "NL",
    "NETHERLANDS": "NL",
    "ROYAUME UNI": "GB",
    "UNITED KINGDOM": "GB",
    "POLOGNE": "PL",
    "POLAND": "PL",
    "ROUMANIE": "RO",
    "ROMANIA": "RO",
    "IRLANDE": "IE",
    "AUTRICHE": "AT",
    "GRECE": "GR",
}


def country(value: str) -> str:
    """ISO 3166 alpha-2 of an address country ('FRANCE', 'France', 'FR'), '' when unknown."""
    key = name_key(value)
    if not key:
        return ""
    if len(key) == 2 and key.isalpha():
        return key
    return _COUNTRIES.get(key, "")


_ADDRESS = re.compile(
    r"^\s*(\d{1,5})\s*(bis|ter|quater|quinquies|[a-d])?\b[\s,]*(.*)$", re.IGNORECASE
)


def split_number(value: str) -> tuple[str, str]:
    """'30 bis' -> ('30', 'bis'); '12' -> ('12', ''); 'B' -> ('', 'B')."""
    value = value.strip()
    match = re.match(r"^(\d{1,6})\s*([A-Za-z]{1,9})?$", value)
    if match:
        return match.group(1), (match.group(2) or "").lower() if match.group(2) else ""
    if len(value) > 10:
        raise FieldError(_("not a street number"))
    return value, ""


def split_address(value: str) -> tuple[str, str, str]:
    """'13 bis Allée des Tilleuls' -> ('13', 'bis', 'Allée des Tilleuls')."""
    value = value.strip()
    match = _ADDRESS.match(value)
    if match and match.group(3):
        repetition = match.group(2) or ""
        return (
            match.group(1),
            repetition.lower() if len(repetition) > 1 else repetition,
            (match.group(3).strip()),
        )
    return "", "", value


def tags(value: str) -> str:
    names = [t.strip() for t in re.split(r"[,;|]", value) if t.strip()]
    for name in names:
        if name.startswith("="):
            raise FieldError(_("looks like a spreadsheet formula, not a value"))
        if len(name) > 100:
            raise FieldError(_("a tag is longer than 100 characters"))
    return ",".join(names)
