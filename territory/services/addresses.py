"""Address imports: the BAN (for offline geocoding) and INSEE's polling-station tables (voter
addresses per bureau, bureau labels)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from territory.formats import codes
from territory.formats.common import FormatError, normalise_header, parse_decimal, read_rows
from territory.geocoding.normalise import normalise_repetition, normalise_street
from territory.models import Address, BureauAddress, Zone
from territory.services.contours import compute_commune_contours, refresh_assignments
from territory.services.zones import RollBureau, _ensure_bureaux, ensure_commune
from territory.services.zones import changed as _changed

INSEE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
ADDRESS_FIELDS = (
    "commune_code",
    "commune_name",
    "postcode",
    "number",
    "repetition",
    "street",
    "street_key",
    "locality",
    "lon",
    "lat",
    "position_type",
)


def campaign_communes() -> list[str]:
    """The communes of the active campaigns: the ones whose addresses are needed."""
    found: set[str] = set()
    for commune_codes in Campaign.objects.filter(is_active=True).values_list(
        "commune_codes", flat=True
    ):
        found.update(commune_codes or [])
    return sorted(found)


def _column(header: list[str], *names: str, required: bool = True) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    if required:
        raise FormatError(_("missing column “%(name)s”") % {"name": names[0]}, line=1)
    return None


@transaction.atomic
def import_ban(
    path: str | Path, *, actor: Any, communes: Sequence[str] | None = None
) -> dict[str, Any]:
    """Load the BAN addresses of the needed communes (given, else the active campaigns'
    communes, else every commune of the file). For each commune in the file, the file is the
    truth: addresses it no longer lists are removed. Re-importing changes nothing."""
    raw_header, rows, _encoding = read_rows(path)
    header = [normalise_header(h) for h in raw_header]
    col = {
        "id": _column(header, "id", "cle_interop"),
        "number": _column(header, "numero"),
        "rep": _column(header, "rep", "suffixe", required=False),
        "street": _column(header, "nom_voie", "voie_nom"),
        "postcode": _column(header, "code_postal"),
        "insee": _column(header, "code_insee", "commune_insee"),
        "commune": _column(header, "nom_commune", "commune_nom", required=False),
        "lon": _column(header, "lon", "long", "longitude"),
        "lat": _column(header, "lat", "latitude"),
        "type": _column(header, "type_position", "position", required=False),
        "locality": _column(header, "nom_ld", "lieudit_complement_nom", required=False),
    }
    wanted = set(communes) if communes else set(campaign_communes()) or None

    def get(fields: list[str], name: str) -> str:
        index = col[name]
        return fields[index].strip() if index is not None and index < len(fields) else ""

    parsed: dict[str, dict[str, Any]] = {}
    skipped = 0
    for line, fields in rows:
        insee = get(fields, "insee").upper()
        if wanted is not None and insee not in wanted:
            skipped += 1
            continue
        if not INSEE_CODE.match(insee):
            raise FormatError(
                _("“%(value)s” is not an INSEE commune code") % {"value": insee},
                line=line,
                field="code_insee",
            )
        ban_id = get(fields, "id")
        if not ban_id:
            raise FormatError(_("an address id is required"), line=line, field="id")
        lon = parse_decimal(get(fields, "lon"), line=line, field="lon")
        lat = parse_decimal(get(fields, "lat"), line=line, field="lat")
        if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise FormatError(_("longitude and latitude are required"), line=line, field="lon")
        number_text = get(fields, "number")
        number = int(number_text) if number_text.isdigit() else None
        if number_text and number is None:
            raise FormatError(
                _("“%(value)s” is not a house number") % {"value": number_text},
                line=line,
                field="numero",
            )
        if number == 99999:  # BAN's placeholder for a place without number
            number = None
        street = get(fields, "street") or get(fields, "locality")
        if not street:
            raise FormatError(_("a street name is required"), line=line, field="nom_voie")
        parsed[ban_id] = {
            "commune_code": insee,
            "commune_name": get(fields, "commune")[:200],
            "postcode": get(fields, "postcode")[:5],
            "number": number,
            "repetition": normalise_repetition(get(fields, "rep"))[:10],
            "street": street[:200],
            "street_key": normalise_street(street)[:200],
            "locality": get(fields, "locality")[:200],
            "lon": round(lon, 6),
            "lat": round(lat, 6),
            "position_type": get(fields, "type")[:30],
        }
    file_communes = sorted({a["commune_code"] for a in parsed.values()})
    for insee in file_communes:
        name = next(a["commune_name"] for a in parsed.values() if a["commune_code"] == insee)
        ensure_commune(insee, name=name)
    existing = {a.ban_id: a for a in Address.objects.filter(commune_code__in=file_communes)}
    to_create, to_update = [], []
    for ban_id, values in parsed.items():
        address = existing.get(ban_id)
        if address is None:
            to_create.append(Address(ban_id=ban_id, **values))
        elif any(getattr(address, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(address, k, v)
            to_update.append(address)
    stale = [pk for ban_id, a in existing.items() if ban_id not in parsed for pk in [a.pk]]
    # An address that moved to another commune of the file: update it in place.
    moved = Address.objects.filter(ban_id__in=[a.ban_id for a in to_create]).exclude(
        commune_code__in=file_communes
    )
    for address in moved:
        values = parsed[address.ban_id]
        for k, v in values.items():
            setattr(address, k, v)
        to_update.append(address)
    moved_ids = {a.ban_id for a in moved}
    to_create = [a for a in to_create if a.ban_id not in moved_ids]
    Address.objects.filter(pk__in=stale).delete()
    Address.objects.bulk_create(to_create, batch_size=5000)
    Address.objects.bulk_update(to_update, list(ADDRESS_FIELDS), batch_size=5000)
    assigned = refresh_assignments(file_communes) if (to_create or to_update or stale) else {}
    summary = {
        "file": Path(path).name,
        "addresses": len(parsed),
        "communes": len(file_communes),
        "created": len(to_create),
        "updated": len(to_update),
        "deleted": len(stale),
        "unchanged": len(parsed) - len(to_create) - len(to_update),
        "skipped_other_communes": skipped,
        **assigned,
    }
    if _changed(summary):
        record_event("territory.import_ban", actor=actor, data=summary)
    return summary


@transaction.atomic
def import_bureau_table(path: str | Path, *, actor: Any, contours: bool = True) -> dict[str, Any]:
    """INSEE's "bureaux de vote et adresses de leurs électeurs": either the address table
    (`id_brut_bv_reu`, longitude, latitude: voter addresses per bureau, which draw the
    approximate contours) or the bureau table (`code_commune`, `code`, `libelle_reu`: labels)."""
    raw_header, rows, _encoding = read_rows(path)
    header = [normalise_header(h) for h in raw_header]
    if "id_brut_bv_reu" in header and "longitude" in header:
        return _import_voter_addresses(path, header, rows, actor=actor, contours=contours)
    if "libelle_reu" in header and "code_commune" in header:
        return _import_bureau_labels(path, header, rows, actor=actor)
    raise FormatError(
        _(
            "not an INSEE polling-station table: expected the columns id_brut_bv_reu, longitude, "
            "latitude (addresses) or code_commune, code, libelle_reu (bureaux)"
        ),
        line=1,
    )


def _import_bureau_labels(
    path: str | Path, header: list[str], rows: Any, *, actor: Any
) -> dict[str, Any]:
    commune_col, code_col = header.index("code_commune"), _column(header, "code")
    label_col = header.index("libelle_reu")
    bureaux: dict[str, RollBureau] = {}
    for line, fields in rows:
        insee = fields[commune_col].strip().upper()
        if not INSEE_CODE.match(insee):
            raise FormatError(
                _("“%(value)s” is not an INSEE commune code") % {"value": insee},
                line=line,
                field="code_commune",
            )
        bureau = codes.bureau_code(fields[code_col or 0], line=line, field="code")
        bureaux[codes.bureau_zone_code(insee, bureau)] = RollBureau(
            insee, bureau, fields[label_col].strip()
        )
    before = dict(
        Zone.objects.filter(type=Zone.Type.BUREAU, code__in=list(bureaux)).values_list(
            "code", "name"
        )
    )
    zones = _ensure_bureaux(bureaux, actor=actor, rename=True)
    summary = {
        "file": Path(path).name,
        "kind": "bureaux",
        "bureaux": len(zones),
        "created": sum(1 for code in zones if code not in before),
        "renamed": sum(1 for code, z in zones.items() if code in before and before[code] != z.name),
    }
    if _changed(summary):
        record_event("territory.import_bureaux", actor=actor, data=summary)
    return summary


def _import_voter_addresses(
    path: str | Path, header: list[str], rows: Any, *, actor: Any, contours: bool
) -> dict[str, Any]:
    col = {name: header.index(name) for name in ("id_brut_bv_reu", "longitude", "latitude")}
    optional_names = ("id", "geo_adresse", "geo_type", "geo_score")
    optional = {name: header.index(name) if name in header else None for name in optional_names}
    parsed: dict[tuple[str, str], dict[str, Any]] = {}
    bureaux: dict[str, RollBureau] = {}
    for line, fields in rows:
        raw_id = fields[col["id_brut_bv_reu"]].strip()
        insee, _sep, number = raw_id.partition("_")
        insee = insee.upper()
        if not INSEE_CODE.match(insee) or not number:
            raise FormatError(
                _("“%(value)s” is not a polling station id (commune_bureau)") % {"value": raw_id},
                line=line,
                field="id_brut_bv_reu",
            )
        zone_code = codes.bureau_zone_code(
            insee, codes.bureau_code(number, line=line, field="id_brut_bv_reu")
        )
        bureaux.setdefault(zone_code, RollBureau(insee, zone_code.split("_")[1]))
        lon = parse_decimal(fields[col["longitude"]], line=line, field="longitude")
        lat = parse_decimal(fields[col["latitude"]], line=line, field="latitude")
        if lon is None or lat is None:
            continue  # INSEE could not geocode this address: nothing to draw with
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise FormatError(
                _("longitude and latitude are out of range"), line=line, field="longitude"
            )

        def opt(name: str, fields: list[str] = fields) -> str:
            index = optional[name]
            return fields[index].strip() if index is not None and index < len(fields) else ""

        source_id = opt("id") or f"{lon:.6f},{lat:.6f}"
        score = parse_decimal(opt("geo_score"), line=line, field="geo_score")
        parsed[(zone_code, source_id)] = {
            "label": opt("geo_adresse")[:300],
            "lon": round(lon, 6),
            "lat": round(lat, 6),
            "geo_type": opt("geo_type")[:20],
            "geo_score": score,
        }
    zones = _ensure_bureaux(bureaux, actor=actor, rename=False)
    existing = {
        (a.bureau_id, a.source_id): a
        for a in BureauAddress.objects.filter(bureau_id__in=[z.pk for z in zones.values()])
    }
    to_create, to_update = [], []
    for (zone_code, source_id), values in parsed.items():
        bureau = zones[zone_code]
        row = existing.pop((bureau.pk, source_id), None)
        if row is None:
            to_create.append(BureauAddress(bureau=bureau, source_id=source_id, **values))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            to_update.append(row)
    BureauAddress.objects.filter(pk__in=[a.pk for a in existing.values()]).delete()
    BureauAddress.objects.bulk_create(to_create, batch_size=5000)
    BureauAddress.objects.bulk_update(
        to_update, ["label", "lon", "lat", "geo_type", "geo_score"], batch_size=5000
    )
    communes = sorted({b.commune_code for b in bureaux.values()})
    for insee in communes:
        ensure_commune(insee)
    computed = 0
    if contours:
        for insee in communes:
            computed += compute_commune_contours(insee)["computed"]
    assigned = refresh_assignments(communes)
    summary = {
        "file": Path(path).name,
        "kind": "addresses",
        "addresses": len(parsed),
        "bureaux": len(zones),
        "communes": len(communes),
        "created": len(to_create),
        "updated": len(to_update),
        "deleted": len(existing),
        "unchanged": len(parsed) - len(to_create) - len(to_update),
        "contours_computed": computed,
        **assigned,
    }
    if _changed(summary):
        record_event("territory.import_bureaux", actor=actor, data=summary)
    return summary
