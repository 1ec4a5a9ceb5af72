"""Zones: the administrative reference (communes, départements, regions) and the bureaux de
vote, created in bulk and linked to their parents."""

from __future__ import annotations

import hashlib
import json
import lzma
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from territory.formats import codes
from territory.formats.common import FormatError
from territory.models import Zone

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
# The pinned copy of the official administrative dataset (see territory/data/README.md).
DECOUPAGE_VERSION = "6.0.0"
DECOUPAGE_DIR = DATA_DIR / f"decoupage-administratif-{DECOUPAGE_VERSION}"
DECOUPAGE_SOURCE = f"@etalab/decoupage-administratif {DECOUPAGE_VERSION}"
DECOUPAGE_SHA256 = {
    "communes.json": "6cafec09b4e127d08edc47f366b28261bee70cca323fbfcb957dd169fcad9284",
    "departements.json": "1ebe7e0ad0a49653c899087194344ec67f7115b728c4e1b98f741bd655b545e0",
    "regions.json": "98cb7c781d09577634b9e104dfbb92e39a0d10ae0e1c6c20978a49a474e1dba5",
}

ZoneKey = tuple[str, str]  # (type, code)
Through = Zone.parents.through


def _read_pinned(name: str) -> list[dict[str, Any]]:
    raw = lzma.decompress((DECOUPAGE_DIR / f"{name}.xz").read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != DECOUPAGE_SHA256[name]:
        raise FormatError(
            _("%(name)s does not match its pinned checksum: the data file was altered")
            % {"name": name}
        )
    data: list[dict[str, Any]] = json.loads(raw)
    return data


@dataclass
class ZoneSpec:
    type: str
    code: str
    name: str
    parents: tuple[ZoneKey, ...] = ()
    population: int | None = None
    postal_codes: tuple[str, ...] = ()
    attributes: dict[str, Any] | None = None
    source: str = ""


def upsert_zones(
    specs: Sequence[ZoneSpec], *, update_existing: bool = True
) -> tuple[dict[ZoneKey, Zone], int, int]:
    """Create or update zones and add their parent links. Returns the zones by key, and how
    many were created and updated. Parents must be in `specs` or already stored."""
    keys = {(s.type, s.code) for s in specs} | {p for s in specs for p in s.parents}
    existing = _fetch(keys)
    to_create, to_update = [], []
    for spec in specs:
        zone = existing.get((spec.type, spec.code))
        values = {
            "name": spec.name,
            "population": spec.population,
            "postal_codes": list(spec.postal_codes),
            "attributes": spec.attributes or {},
            "source": spec.source,
        }
        if zone is None:
            zone = Zone(type=spec.type, code=spec.code, **values)
            existing[(spec.type, spec.code)] = zone
            to_create.append(zone)
        elif update_existing and any(getattr(zone, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(zone, k, v)
            to_update.append(zone)
    Zone.objects.bulk_create(to_create, batch_size=2000)
    if any(z.pk is None for z in to_create):  # backends that do not return ids
        existing.update(_fetch({(z.type, z.code) for z in to_create}))
    Zone.objects.bulk_update(
        to_update, ["name", "population", "postal_codes", "attributes", "source"], batch_size=2000
    )
    missing = [p for s in specs for p in s.parents if p not in existing]
    if missing:
        raise FormatError(
            _("unknown parent zone %(type)s %(code)s")
            % {"type": missing[0][0], "code": missing[0][1]}
        )
    links = [
        Through(from_zone_id=existing[(s.type, s.code)].pk, to_zone_id=existing[p].pk)
        for s in specs
        for p in s.parents
    ]
    Through.objects.bulk_create(links, ignore_conflicts=True, batch_size=5000)
    return existing, len(to_create), len(to_update)


def _fetch(keys: Iterable[ZoneKey]) -> dict[ZoneKey, Zone]:
    by_type: dict[str, set[str]] = {}
    for zone_type, code in keys:
        by_type.setdefault(zone_type, set()).add(code)
    found: dict[ZoneKey, Zone] = {}
    for zone_type, zone_codes in by_type.items():
        zone_codes_list = list(zone_codes)
        for start in range(0, len(zone_codes_list), 5000):
            chunk = zone_codes_list[start : start + 5000]
            for zone in Zone.objects.filter(type=zone_type, code__in=chunk):
                found[(zone.type, zone.code)] = zone
    return found


@transaction.atomic
def load_communes(*, actor: Any, departements: Sequence[str] | None = None) -> dict[str, Any]:
    """Regions, départements, communes and municipal arrondissements from the pinned copy of
    @etalab/decoupage-administratif. No network. Idempotent: a second run changes nothing."""
    wanted = {d.upper().zfill(2) for d in departements} if departements else None
    regions = _read_pinned("regions.json")
    depts = _read_pinned("departements.json")
    communes = _read_pinned("communes.json")
    if wanted is not None:
        unknown = wanted - {d["code"] for d in depts}
        if unknown:
            raise FormatError(
                _("unknown département code(s): %(codes)s") % {"codes": ", ".join(sorted(unknown))}
            )
    specs: list[ZoneSpec] = []
    specs += [
        ZoneSpec(Zone.Type.REGION, r["code"], r["nom"], attributes={"chef_lieu": r.get("chefLieu")},
                 source=DECOUPAGE_SOURCE)
        for r in regions
    ]  # fmt: skip
    specs += [
        ZoneSpec(
            Zone.Type.DEPARTEMENT,
            d["code"],
            d["nom"],
            parents=((Zone.Type.REGION, d["region"]),),
            attributes={"chef_lieu": d.get("chefLieu"), "zone": d.get("zone")},
            source=DECOUPAGE_SOURCE,
        )
        for d in depts
        if wanted is None or d["code"] in wanted
    ]
    kinds = {
        "commune-actuelle": Zone.Type.COMMUNE,
        "arrondissement-municipal": Zone.Type.ARRONDISSEMENT,
    }
    for c in communes:
        zone_type = kinds.get(c["type"])
        if zone_type is None or (wanted is not None and c.get("departement") not in wanted):
            continue
        parents: tuple[ZoneKey, ...] = ((Zone.Type.DEPARTEMENT, c["departement"]),)
        if zone_type == Zone.Type.ARRONDISSEMENT and c.get("commune"):
            parents += ((Zone.Type.COMMUNE, c["commune"]),)
        specs.append(
            ZoneSpec(
                zone_type,
                c["code"],
                c["nom"],
                parents=parents,
                population=c.get("population"),
                postal_codes=tuple(c.get("codesPostaux") or ()),
                attributes={"zone": c.get("zone"), "siren": c.get("siren")},
                source=DECOUPAGE_SOURCE,
            )
        )
    # Arrondissements name their commune as a parent: communes must exist first.
    specs.sort(
        key=lambda s: (
            list(Zone.Type.values).index(s.type) if s.type != Zone.Type.ARRONDISSEMENT else 99
        )
    )
    _zones, created, updated = upsert_zones(specs)
    counts = {t: sum(1 for s in specs if s.type == t) for t in {s.type for s in specs}}
    summary = {
        "source": DECOUPAGE_SOURCE,
        "zones": len(specs),
        "created": created,
        "updated": updated,
        "unchanged": len(specs) - created - updated,
        **{f"{t}s": n for t, n in sorted(counts.items())},
    }
    if created or updated:
        record_event("territory.load_communes", actor=actor, data=summary)
    return summary


def ensure_commune(insee: str, *, name: str = "", departement: str = "") -> Zone:
    """The commune zone, created (with its département) when the reference was not loaded."""
    zone = Zone.objects.filter(type=Zone.Type.COMMUNE, code=insee).first()
    if zone is not None:
        return zone
    dept = departement or (insee[:3] if insee.startswith("97") else insee[:2])
    zones, _c, _u = upsert_zones(
        [
            ZoneSpec(Zone.Type.DEPARTEMENT, dept, dept),
            ZoneSpec(
                Zone.Type.COMMUNE, insee, name or insee, parents=((Zone.Type.DEPARTEMENT, dept),)
            ),
        ],
        update_existing=False,
    )
    return zones[(Zone.Type.COMMUNE, insee)]


@dataclass(frozen=True)
class RollBureau:
    """What one roll row says about its voter's bureau."""

    commune_code: str
    bureau_code: str
    label: str = ""
    circonscription_code: str = ""  # e.g. "4102" or "41-02" as the roll writes it
    canton_label: str = ""


@transaction.atomic
def register_bureaux_from_roll(rows: Iterable[RollBureau], *, actor: Any) -> dict[str, Zone]:
    """Create or rename the bureaux de vote named by electoral-roll rows (one row per voter is
    fine: duplicates collapse). Called by the roll importer. Returns the bureaux by zone code
    (`territory.formats.codes.bureau_zone_code(commune, bureau)`, e.g. "41998_0001").

    Raises FormatError (nothing stored) for a bad commune or bureau code, or for one bureau
    given two different labels.
    """
    bureaux: dict[str, RollBureau] = {}
    for row in rows:
        insee = row.commune_code.strip().upper()
        if not re.match(r"^(?:\d{5}|2[AB]\d{3})$", insee):
            raise FormatError(
                _("“%(value)s” is not an INSEE commune code") % {"value": row.commune_code},
                field="commune_code",
            )
        bureau = codes.bureau_code(row.bureau_code, line=0, field="bureau_code")
        zone_code = codes.bureau_zone_code(insee, bureau)
        label = row.label.strip()
        known = bureaux.get(zone_code)
        if known is not None and label and known.label and known.label != label:
            raise FormatError(
                _("polling station %(code)s has two labels: “%(a)s” and “%(b)s”")
                % {"code": zone_code, "a": known.label, "b": label},
                field="label",
            )
        if known is None or (label and not known.label):
            bureaux[zone_code] = RollBureau(
                insee, bureau, label, row.circonscription_code, row.canton_label
            )
    return _ensure_bureaux(bureaux, actor=actor, rename=True)


def _ensure_bureaux(bureaux: dict[str, RollBureau], *, actor: Any, rename: bool) -> dict[str, Zone]:
    communes = {b.commune_code for b in bureaux.values()}
    known = {z.code for z in Zone.objects.filter(type=Zone.Type.COMMUNE, code__in=communes)}
    for insee in sorted(communes - known):
        ensure_commune(insee)
    specs = []
    existing = {
        z.code: z for z in Zone.objects.filter(type=Zone.Type.BUREAU, code__in=list(bureaux))
    }
    for zone_code, b in bureaux.items():
        parents: tuple[ZoneKey, ...] = ((Zone.Type.COMMUNE, b.commune_code),)
        circo = b.circonscription_code.strip()
        if circo:
            dept = b.commune_code[:3] if b.commune_code.startswith("97") else b.commune_code[:2]
            circo = codes.circonscription_code(dept, circo, line=0, field="circonscription") or ""
        if circo:
            specs.append(ZoneSpec(Zone.Type.CIRCONSCRIPTION, circo, circo))
            parents += ((Zone.Type.CIRCONSCRIPTION, circo),)
        zone = existing.get(zone_code)
        name = b.label or (
            zone.name if zone else _("Polling station %(code)s") % {"code": b.bureau_code}
        )
        if zone is not None and not rename:
            name = zone.name
        attributes = dict(zone.attributes) if zone else {}
        if b.canton_label:
            attributes["canton"] = b.canton_label
        specs.append(
            ZoneSpec(
                Zone.Type.BUREAU,
                zone_code,
                name,
                parents=parents,
                attributes=attributes,
                source=zone.source if zone else "",
            )
        )
    # Constituencies keep the name they have.
    circo_specs = {s.code: s for s in specs if s.type == Zone.Type.CIRCONSCRIPTION}
    upsert_zones(list(circo_specs.values()), update_existing=False)
    zones, created, updated = upsert_zones(
        [s for s in specs if s.type == Zone.Type.BUREAU], update_existing=True
    )
    if created or updated:
        record_event(
            "territory.bureaux",
            actor=actor,
            data={"created": created, "updated": updated, "bureaux": len(bureaux)},
        )
    return {code: zones[(Zone.Type.BUREAU, code)] for code in bureaux}


def changed(summary: dict[str, Any]) -> bool:
    """Whether an import summary says something was stored (audit only real changes)."""
    return any(summary.get(k) for k in ("created", "updated", "deleted", "renamed"))
