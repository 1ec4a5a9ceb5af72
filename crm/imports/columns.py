"""Columns: the fields an import can fill, the header names each is known by, and which layout
a header line belongs to. Headers are compared case-, accent- and punctuation-insensitively
(`header_key`), never by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from crm.models import ImportFormat
from crm.normalize import name_key


def header_key(header: object) -> str:
    """'Nom d'usage' -> 'NOMDUSAGE'; 'NomDusage' -> 'NOMDUSAGE'; 'E-mail' -> 'EMAIL'."""
    return name_key(str(header or "")).replace(" ", "")


@dataclass(frozen=True)
class Field:
    name: str
    label: object  # lazy translation


# Every field an import can fill. "last_name" is a name whose kind the file does not say
# (members files): it is stored as the birth name and matched as birth or usage name.
FIELDS: tuple[Field, ...] = (
    Field("external_id", _("Id in the source file")),
    Field("email", _("Email")),
    Field("phone", _("Phone")),
    Field("phone2", _("Second phone")),
    Field("sex", _("Sex or title")),
    Field("first_names", _("First names")),
    Field("last_name", _("Last name")),
    Field("birth_name", _("Birth name")),
    Field("usage_name", _("Usage name")),
    Field("birth_date", _("Birth date")),
    Field("birth_place_code", _("Birthplace (INSEE code)")),
    Field("birth_place_name", _("Birthplace")),
    Field("birth_department", _("Birth département")),
    Field("birth_country", _("Birth country")),
    Field("nationality", _("Nationality")),
    Field("address", _("Address (number and street)")),
    Field("street_number", _("Street number")),
    Field("street_type", _("Street type")),
    Field("street_name", _("Street")),
    Field("address_complement", _("Address complement")),
    Field("address_complement2", _("Address complement 2")),
    Field("locality", _("Lieu-dit")),
    Field("postcode", _("Postcode")),
    Field("commune_name", _("Commune")),
    Field("commune_code", _("Commune (INSEE code)")),
    Field("department_code", _("Département code")),
    Field("country", _("Country")),
    Field("list_commune_code", _("Roll commune (INSEE code)")),
    Field("list_commune_name", _("Roll commune")),
    Field("list_type", _("List (LP, LCM, LCE)")),
    Field("polling_station_code", _("Polling station code")),
    Field("polling_station_label", _("Polling station name")),
    Field("order_number", _("Order number on the roll")),
    Field("member_since", _("Member since")),
    Field("tags", _("Tags (comma-separated)")),
)
FIELD_NAMES = frozenset(f.name for f in FIELDS)
IGNORE = ""


def _aliases(table: dict[str, Sequence[str]]) -> dict[str, str]:
    return {header_key(alias): field for field, names in table.items() for alias in names}


# Current REU exports ("Listes électeurs actifs"), with the variants other parsers accept.
REU_ALIASES = _aliases(
    {
        "list_commune_code": ["code du l'ugle", "code de l'ugle", "code ugle"],
        "list_commune_name": ["libellé de l'ugle", "libellé du l'ugle", "libellé ugle"],
        "list_type": ["libellé du type de liste", "type de liste", "libellé type de liste"],
        "birth_name": ["nom de naissance"],
        "usage_name": ["nom d'usage"],
        "first_names": ["prénoms", "prénom"],
        "sex": ["sexe"],
        "birth_date": ["date de naissance"],
        "birth_place_code": [
            "code commune de naissance",
            "code de la commune de naissance",
            "code de commune de naissance",
        ],
        "birth_place_name": ["libellé commune de naissance", "commune de naissance"],
        "birth_department": [
            "code département de naissance",
            "code du département de naissance",
            "département de naissance",
        ],
        "birth_country": ["pays de naissance", "libellé pays de naissance"],
        "nationality": ["libellé nationalité", "identifiant nationalité", "nationalité"],
        "street_number": ["numéro de voie"],
        "street_name": ["libellé de voie"],
        "address_complement": ["complément 1", "complément d'adresse 1"],
        "address_complement2": ["complément 2", "complément d'adresse 2"],
        "locality": ["lieu-dit"],
        "postcode": ["code postal"],
        "commune_name": ["commune", "libellé commune"],
        "country": ["pays"],
        "polling_station_code": ["code du bureau de vote", "code bureau de vote"],
        "polling_station_label": ["libellé du bureau de vote", "libellé bureau de vote"],
        "order_number": [
            "numéro d'ordre dans le bureau de vote",
            "numéro d'ordre",
        ],
        IGNORE: [
            "code circonscription législative du bureau de vote",
            "circonscription législative du bureau de vote",
            "libellé canton du bureau de vote",
            "code canton du bureau de vote",
            "canton du bureau de vote",
            "libellé circonscription métropolitaine du bureau de vote",
            "code circonscription métropolitaine du bureau de vote",
        ],
    }
)

# Arrêté du 12 novembre 2013 (e-listelec): exact names, in this order, but we still go by name.
REU2013_ALIASES = _aliases(
    {
        "list_type": ["TypeListe"],
        # NoElecteurGeneral numbers the whole commune's list, not the order in the bureau.
        IGNORE: [
            "InfoListe",
            "DateCreationListe",
            "CodeCanton",
            "CodeCirconscription",
            "NoElecteurGeneral",
        ],
        "department_code": ["CodeDepartement"],
        "commune_code": ["CodeCommune"],
        "list_commune_name": ["NomCommune"],
        "sex": ["Sexe"],
        "birth_name": ["NomdeNaissance"],
        "usage_name": ["NomDusage"],
        "first_names": ["Prenoms"],
        "birth_date": ["DateDeNaissance"],
        "birth_place_name": ["NomComNaissance"],
        "birth_department": ["DeptNaissance"],
        "birth_country": ["PaysNaissance"],
        "nationality": ["Nationalite"],
        "polling_station_label": ["NomBureauDeVote"],
        "polling_station_code": ["NoBureauDeVote"],
        "address_complement": ["ComplementDeLocalisation1"],
        "address_complement2": ["ComplementDeLocalisation2"],
        "street_number": ["NumeroVoie"],
        "street_type": ["TypeVoie"],
        "street_name": ["LibelleVoie"],
        "locality": ["LieuDit"],
        "postcode": ["CodePostal"],
        "commune_name": ["VilleLocalite"],
        "country": ["Pays"],
    }
)

# Members files and other tables: French and English names seen in spreadsheets and CRM exports.
TABLE_ALIASES = _aliases(
    {
        "external_id": [
            "id", "identifiant", "n° adhérent", "numéro d'adhérent", "numéro adhérent",
            "n adherent", "member id", "membership number", "external id", "contact id",
            "nationbuilder id", "civicrm id", "id adhérent", "matricule",
        ],
        "email": [
            "email", "e-mail", "mail", "courriel", "adresse email", "adresse e-mail",
            "adresse mail", "email address", "e-mail address", "adresse électronique",
        ],
        "phone": [
            "téléphone", "tél", "tel", "telephone", "phone", "phone number", "portable",
            "mobile", "téléphone portable", "téléphone mobile", "mobile phone", "cell",
            "cell phone", "numéro de téléphone", "gsm",
        ],
        "phone2": [
            "téléphone fixe", "fixe", "tél fixe", "home phone", "landline", "téléphone 2",
            "phone 2", "work phone",
        ],
        "sex": ["sexe", "genre", "civilité", "gender", "sex", "title", "salutation"],
        "first_names": [
            "prénom", "prénoms", "first name", "firstname", "first names", "given name",
            "given names", "forename",
        ],
        "last_name": [
            "nom", "last name", "lastname", "surname", "family name", "nom de famille", "name",
        ],
        "birth_name": ["nom de naissance", "birth name", "maiden name", "nom de jeune fille"],
        "usage_name": ["nom d'usage", "nom marital", "married name", "usage name"],
        "birth_date": [
            "date de naissance", "né le", "née le", "né(e) le", "naissance", "birth date",
            "date of birth", "birthdate", "dob", "birthday",
        ],
        "birth_place_name": ["lieu de naissance", "commune de naissance", "place of birth"],
        "nationality": ["nationalité", "nationality"],
        "address": [
            "adresse", "address", "adresse postale", "street address", "address 1",
            "address line 1", "adresse 1", "rue",
        ],
        "street_number": ["numéro", "n°", "numéro de voie", "street number", "house number"],
        "street_name": ["voie", "libellé de voie", "street"],
        "address_complement": [
            "complément d'adresse", "complément", "adresse 2", "address 2",
            "address line 2", "bâtiment",
        ],
        "locality": ["lieu-dit"],
        "postcode": [
            "code postal", "cp", "postcode", "post code", "postal code", "zip", "zip code",
        ],
        "commune_name": ["ville", "commune", "city", "town", "localité"],
        "commune_code": ["code insee", "code commune", "insee", "commune code"],
        "country": ["pays", "country"],
        "polling_station_code": [
            "bureau de vote", "code du bureau de vote", "n° bureau", "polling station",
        ],
        "member_since": [
            "adhérent depuis", "adhérente depuis", "adhésion", "date d'adhésion",
            "date adhésion", "année d'adhésion", "member since", "membership date",
            "joined", "join date",
        ],
        "tags": ["tags", "étiquettes", "tag", "labels"],
    }
)  # fmt: skip

REU_REQUIRED = ("birth_name", "first_names", "birth_date")
REU_MARKERS = frozenset({"list_type", "polling_station_code", "list_commune_code"})
REU2013_MARKERS = frozenset(
    {header_key("TypeListe"), header_key("NoBureauDeVote"), header_key("NoElecteurGeneral")}
)


def _map(headers: Sequence[str], aliases: dict[str, str]) -> dict[int, str]:
    """{column index: field} for the headers found in `aliases` (first column wins)."""
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        field = aliases.get(header_key(header))
        if field and field not in taken:
            mapping[index] = field
            taken.add(field)
    return mapping


def detect_layout(headers: Sequence[str]) -> str:
    """ImportFormat.REU2013, REU or TABLE from a header line."""
    keys = {header_key(h) for h in headers}
    if len(keys & REU2013_MARKERS) >= 2 and header_key("NomdeNaissance") in keys:
        return ImportFormat.REU2013
    reu = set(_map(headers, REU_ALIASES).values())
    if set(REU_REQUIRED) <= reu and reu & REU_MARKERS:
        return ImportFormat.REU
    return ImportFormat.TABLE


def roll_mapping(headers: Sequence[str], layout: str) -> tuple[dict[int, str], list[str]]:
    """The mapping of a roll's columns, and the required fields it lacks (named for the error)."""
    aliases = REU2013_ALIASES if layout == ImportFormat.REU2013 else REU_ALIASES
    mapping = {i: f for i, f in _map(headers, aliases).items() if f != IGNORE}
    missing = [f for f in REU_REQUIRED if f not in mapping.values()]
    return mapping, missing


def suggest_mapping(headers: Sequence[str]) -> dict[int, str]:
    """A first mapping for a table, from French and English header names."""
    return {i: f for i, f in _map(headers, TABLE_ALIASES).items() if f != IGNORE}


def field_label(name: str) -> str:
    for field in FIELDS:
        if field.name == name:
            return str(field.label)
    return name
