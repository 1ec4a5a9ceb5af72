"""Normalisation of what identifies a person: names, emails, phones, birth dates, addresses.

Pure functions, no database access: the web forms, the staff screens and the importers (1M-row
electoral rolls) all compute the matching keys stored in indexed columns through this module,
so a key written by one path is found by every other.

Keys:
- email: stripped and lower-cased (`normalise_email`);
- phone: E.164 (`+33612345678`), French national formats understood (`normalise_phone`);
- names: upper-case ASCII, accents and punctuation folded to single spaces (`name_key`);
- roll identity: birth name (or usage name) + first names + full birth date (`roll_key`);
- household: street number, repetition, street, complement, postcode (`address_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

DEFAULT_PHONE_REGION = "FR"

_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
# Letters that NFKD does not decompose into ASCII.
_FOLD = str.maketrans(
    {
        "Œ": "OE",
        "œ": "oe",
        "Æ": "AE",
        "æ": "ae",
        "ß": "ss",
        "Ø": "O",
        "ø": "o",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Þ": "TH",
        "þ": "th",
        "ı": "i",
    }
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class NormalisationError(ValueError):
    """A value that cannot be normalised; the message says which value and why."""


def fold(text: str | None) -> str:
    """Upper-case ASCII with accents removed and everything else kept (for display keys)."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def name_key(text: str | None) -> str:
    """'Aït-Ali ' -> 'AIT ALI'; 'Marie-Hélène' -> 'MARIE HELENE'. Accent- and case-insensitive."""
    return _NON_ALNUM.sub(" ", fold(text)).strip()


def search_key(text: str | None) -> str:
    """The same folding for what staff type in the search box."""
    return name_key(text)


def normalise_email(value: str | None) -> str:
    """Stripped, lower-cased; raises NormalisationError when it is not an address."""
    email = (value or "").strip().lower()
    if not email:
        return ""
    if not _EMAIL.match(email) or len(email) > 254:
        raise NormalisationError(f"not an email address: {value!r}")
    return email


@dataclass(frozen=True)
class Phone:
    e164: str
    kind: str  # "mobile", "landline" or "other"


def normalise_phone(value: str | None, region: str = DEFAULT_PHONE_REGION) -> Phone | None:
    """E.164 from French or international formats ('07 18 89 33 60', '0033 7…', '+33 7…').

    Returns None for an empty value; raises NormalisationError when it is not a valid number.
    """
    raw = (value or "").strip()
    if not raw:
        return None
    cleaned = re.sub(r"[\s.\-()/]", "", raw)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as error:
        raise NormalisationError(f"not a phone number: {value!r}") from error
    # "Possible" (right length for the country) rather than "valid": members files hold numbers
    # in ranges libphonenumber does not know as allocated yet, and they are real to their owners.
    if not phonenumbers.is_possible_number(number):
        raise NormalisationError(f"not a valid phone number: {value!r}")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    number_type = phonenumbers.number_type(number)
    if number_type == phonenumbers.PhoneNumberType.MOBILE or e164.startswith(("+336", "+337")):
        kind = "mobile"
    elif number_type == phonenumbers.PhoneNumberType.FIXED_LINE or (
        e164.startswith(("+331", "+332", "+333", "+334", "+335", "+339"))
    ):
        kind = "landline"
    else:
        kind = "other"
    return Phone(e164, kind)


def format_phone(e164: str) -> str:
    """'+33612345678' -> '06 12 34 56 78' for French numbers, international format otherwise."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 33:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@dataclass(frozen=True)
class PartialDate:
    """A birth date as the rolls give it: full, month and year, or year only ('00/00/1953')."""

    year: int | None
    month: int | None = None
    day: int | None = None

    @property
    def is_full(self) -> bool:
        return bool(self.year and self.month and self.day)

    def iso(self) -> str:
        """'1953-04-07', '1953-04' or '1953'; '' when unknown."""
        if not self.year:
            return ""
        parts = [f"{self.year:04d}"]
        if self.month:
            parts.append(f"{self.month:02d}")
            if self.day:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)

    def display(self) -> str:
        if not self.year:
            return ""
        return f"{self.day or 0:02d}/{self.month or 0:02d}/{self.year}"


_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_birth_date(value: str | None) -> PartialDate | None:
    """'07/04/1953', '00/00/1953', '00/04/1953', '1953', '1953-04-07', '1953-04' or ''.

    Zeros mean unknown parts, as in the electoral rolls. Raises NormalisationError on a value
    that is not a date (the message names it).
    """
    text = (value or "").strip()
    if not text:
        return None
    if match := _DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _YMD.match(text):
        year, month = int(match.group(1)), int(match.group(2))
        day = int(match.group(3) or 0)
    elif match := _YEAR.match(text):
        year, month, day = int(match.group(1)), 0, 0
    else:
        raise NormalisationError(f"not a date (DD/MM/YYYY or YYYY expected): {value!r}")
    if not 1870 <= year <= 2100 or not 0 <= month <= 12 or not 0 <= day <= 31:
        raise NormalisationError(f"not a valid date: {value!r}")
    if day and not month:
        day = 0  # a day without its month identifies nothing
    if day and month:
        import datetime as dt

        try:
            dt.date(year, month, day)
        except ValueError as error:
            raise NormalisationError(f"not a valid date: {value!r}") from error
    return PartialDate(year, month or None, day or None)


def roll_key(last_name: str | None, first_names: str | None, birth: PartialDate | None) -> str:
    """The roll identity key: 'DUPONT|JEAN PIERRE|1953-04-07'; '' unless all three are known.

    Only full birth dates make a key: two people named alike born the same year are common.
    """
    last, first = name_key(last_name), name_key(first_names)
    if not last or not first or birth is None or not birth.is_full:
        return ""
    return f"{last}|{first}|{birth.iso()}"


def address_key(
    number: str | None,
    repetition: str | None,
    street: str | None,
    complement: str | None,
    postcode: str | None,
) -> str:
    """People sharing this key share a letterbox: a household."""
    street_part = name_key(street)
    if not street_part or not (postcode or "").strip():
        return ""
    parts = [
        name_key(number),
        name_key(repetition),
        street_part,
        name_key(complement),
        (postcode or "").strip(),
    ]
    return "|".join(parts)


def keyed_hash(kind: str, normalised_value: str, key: str | bytes) -> str:
    """HMAC-SHA256 of a normalised email or E.164 phone: opt-outs kept after erasure.

    Keyed with a server secret, so the list cannot be reversed by hashing a phone book.
    """
    if isinstance(key, str):
        key = key.encode()
    message = f"{kind}:{normalised_value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
