"""French territorial codes as the Ministry of the Interior writes them, made INSEE codes."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from territory.formats.common import FormatError

# The Ministry's letter codes for overseas départements and collectivités.
OVERSEAS_LETTER_CODES = {
    "ZA": "971",  # Guadeloupe
    "ZB": "972",  # Martinique
    "ZC": "973",  # Guyane
    "ZD": "974",  # La Réunion
    "ZM": "976",  # Mayotte
    "ZS": "975",  # Saint-Pierre-et-Miquelon
    "ZN": "988",  # Nouvelle-Calédonie
    "ZP": "987",  # Polynésie française
    "ZW": "986",  # Wallis-et-Futuna
    "ZX": "977",  # Saint-Barthélemy / Saint-Martin (977xx, 978xx)
}
ABROAD = "ZZ"  # French people living abroad: no INSEE commune

_SCIENTIFIC = re.compile(r"^\d+(?:[.,]\d+)?[eE][+-]?\d+$")


def departement_code(raw: str, *, line: int, field: str) -> str:
    code = raw.strip().upper()
    if not code:
        raise FormatError(_("a département code is required"), line=line, field=field)
    if code in OVERSEAS_LETTER_CODES:
        return OVERSEAS_LETTER_CODES[code]
    if code.isdigit():
        return code.zfill(2)
    if code in {"2A", "2B", ABROAD}:
        return code
    raise FormatError(
        _("“%(value)s” is not a département code") % {"value": raw}, line=line, field=field
    )


def commune_code(dept_raw: str, commune_raw: str, *, line: int, field: str) -> tuple[str, str]:
    """(département, INSEE commune code) from the file's two columns.

    Classic files give the commune on 3 digits without the département ("998" in "41"); overseas
    communes are the département's first two digits and those 3 digits ("ZA" + "101" = 97101).
    Newer files already give the 5-character INSEE code.
    """
    dept_letters = dept_raw.strip().upper()
    dept = departement_code(dept_raw, line=line, field=field)
    commune = commune_raw.strip().upper()
    if not commune:
        raise FormatError(_("a commune code is required"), line=line, field=field)
    if dept == ABROAD:
        return dept, f"{ABROAD}{commune.zfill(3)}"
    if len(commune) == 5 and (commune.isdigit() or commune[:2] in {"2A", "2B"}):
        return dept, commune
    if not commune.isdigit() or len(commune) > 3:
        if commune.isdigit() and len(commune) == 4:  # a spreadsheet ate the leading zero
            return dept, commune.zfill(5)
        raise FormatError(
            _("“%(value)s” is not a commune code") % {"value": commune_raw}, line=line, field=field
        )
    commune = commune.zfill(3)
    if dept_letters in OVERSEAS_LETTER_CODES or len(dept) == 3:
        insee = dept[:2] + commune
        if dept_letters == "ZX":
            dept = insee[:3]
        return dept, insee
    return dept, dept + commune


def bureau_code(raw: str, *, line: int, field: str) -> str:
    """Bureau numbers padded to 4 digits ("1" -> "0001"); letters kept ("12A" -> "012A").

    A spreadsheet may have turned "0" into "0,00E+00" (seen in the 2020 municipal file).
    """
    code = raw.strip().upper().replace(" ", "")
    if not code:
        raise FormatError(_("a polling station code is required"), line=line, field=field)
    if _SCIENTIFIC.match(code):
        code = str(int(float(code.replace(",", "."))))
    if code.isdigit():
        return code.zfill(4)
    match = re.match(r"^(\d+)([A-Z]+)$", code)
    if match:
        return match.group(1).zfill(4 - len(match.group(2))) + match.group(2)
    if re.match(r"^[0-9A-Z_.-]{1,12}$", code):
        return code
    raise FormatError(
        _("“%(value)s” is not a polling station code") % {"value": raw}, line=line, field=field
    )


def bureau_zone_code(insee: str, bureau: str) -> str:
    """The zone code of a bureau: INSEE commune, underscore, 4-character bureau code, as in
    INSEE's `id_brut_bv_reu` (41998_0001)."""
    return f"{insee}_{bureau}"


def circonscription_code(dept: str, raw: str, *, line: int, field: str) -> str | None:
    """'41' + '02' -> '41-02'; '0101' (département 01, circonscription 01) -> '01-01'."""
    code = raw.strip().upper()
    if not code:
        return None
    if "-" in code:
        left, _sep, right = code.partition("-")
        return f"{left.zfill(2)}-{right.zfill(2)}"
    if code.isdigit() and len(code) <= 2:
        return f"{dept}-{code.zfill(2)}"
    if len(code) >= 3 and code[-2:].isdigit():
        return f"{dept}-{code[-2:]}"
    raise FormatError(
        _("“%(value)s” is not a constituency code") % {"value": raw}, line=line, field=field
    )
