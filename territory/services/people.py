"""Geocode our people offline and give each their bureau de vote and IRIS.

`geocode_people(campaign=None)` reads people's postal addresses (crm.Person), matches them with
the offline Geocoder (territory.geocoding, BAN addresses imported with `import_ban`), and writes:

- on the person (the CRM's own columns, which segments and the map read): `latitude`,
  `longitude` and `iris_code`;
- a `territory.PersonLocation`: precision (house number, street, commune, not found, no
  address), score, matched label, bureau and IRIS, and where the bureau came from.

The bureau comes from the electoral roll when the person has one (commune + bureau code, the
roll is the law), else from the matched address, else from the point inside a bureau's
contour. The IRIS comes from the point, inside an IRIS contour (shapely), else from the
matched address. A later run skips the people already settled (same address, found at the
house number with a bureau, or without an address) unless `force`: the others are tried again,
since BAN addresses, contours or bureaux imported meanwhile may now place them. Nothing goes to
the network.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from crm.models import CampaignAttachment, Person
from territory.formats import codes
from territory.formats.common import FormatError
from territory.geocoding import AddressQuery, Geocoder, Precision
from territory.models import PersonLocation, Zone
from territory.services.geometry import from_geojson

BATCH_SIZE = 2000
MAX_REPORTED = 200  # unmatched addresses listed in the summary (all are counted)

PERSON_FIELDS = (
    "pk",
    "street_number",
    "street_repetition",
    "street_name",
    "locality",
    "postcode",
    "commune_code",
    "commune_name",
    "polling_station_code",
    "address_key",
    "latitude",
    "longitude",
    "iris_code",
)


def location_key(row: dict[str, Any]) -> str:
    """What the location depends on: re-geocode when it changes."""
    return "|".join(
        (row["address_key"] or "", row["postcode"] or "", row["commune_code"] or "",
         row["polling_station_code"] or "", row["street_number"] or "",
         row["street_repetition"] or "", row["street_name"] or "", row["commune_name"] or "")
    )[:400]  # fmt: skip


def people_of(campaign: Campaign | None) -> QuerySet[Person]:
    """A campaign's people (attached to it); a national campaign or None: everyone."""
    people = Person.objects.all()
    if campaign is not None and not campaign.is_national:
        people = people.filter(
            Exists(CampaignAttachment.objects.filter(person=OuterRef("pk"), campaign=campaign))
        )
    return people


@dataclass
class _Polygons:
    """Contours of one zone type in some communes, for point-in-polygon with an STRtree."""

    ids: list[int] = field(default_factory=list)
    tree: Any = None

    @classmethod
    def load(cls, zone_type: str, commune_codes: Iterable[str]) -> _Polygons:
        ids, geoms = [], []
        for pk, geometry in Zone.objects.filter(
            type=zone_type,
            parents__type__in=[Zone.Type.COMMUNE, Zone.Type.ARRONDISSEMENT],
            parents__code__in=list(commune_codes),
            geometry__isnull=False,
        ).values_list("pk", "geometry"):
            ids.append(pk)
            geoms.append(from_geojson(geometry))
        return cls(ids, shapely.STRtree(geoms) if geoms else None)

    def locate(self, points: list[tuple[float, float]]) -> list[int | None]:
        found: list[int | None] = [None] * len(points)
        if self.tree is None or not points:
            return found
        inputs, targets = self.tree.query(shapely.points(points), predicate="intersects")
        for i, t in zip(inputs.tolist(), targets.tolist(), strict=True):
            if found[i] is None:
                found[i] = self.ids[t]
        return found


class _Zones:
    """Bureaux and IRIS of the communes met so far, loaded once per commune."""

    def __init__(self) -> None:
        self.loaded: set[str] = set()
        self.bureau_by_code: dict[str, int] = {}
        self.iris_code: dict[int, str] = {}
        self.bureaux: dict[str, _Polygons] = {}
        self.iris: dict[str, _Polygons] = {}

    def load(self, commune_codes: Iterable[str]) -> None:
        wanted = sorted({c for c in commune_codes if c and c not in self.loaded})
        if not wanted:
            return
        self.loaded.update(wanted)
        for pk, code, zone_type in Zone.objects.filter(
            type__in=[Zone.Type.BUREAU, Zone.Type.IRIS],
            parents__type__in=[Zone.Type.COMMUNE, Zone.Type.ARRONDISSEMENT],
            parents__code__in=wanted,
        ).values_list("pk", "code", "type"):
            if zone_type == Zone.Type.BUREAU:
                self.bureau_by_code[code] = pk
            else:
                self.iris_code[pk] = code
        for code in wanted:
            self.bureaux[code] = _Polygons.load(Zone.Type.BUREAU, [code])
            self.iris[code] = _Polygons.load(Zone.Type.IRIS, [code])

    def roll_bureau(self, commune_code: str, station: str) -> int | None:
        if not commune_code or not station:
            return None
        try:
            local = codes.bureau_code(station, line=0, field="polling_station_code")
        except FormatError:
            return None
        return self.bureau_by_code.get(codes.bureau_zone_code(commune_code.strip().upper(), local))


@dataclass
class GeocodeSummary:
    people: int = 0
    skipped_unchanged: int = 0
    precision: Counter[str] = field(default_factory=Counter)
    bureau_source: Counter[str] = field(default_factory=Counter)
    with_iris: int = 0
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    unmatched_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "skipped_unchanged": self.skipped_unchanged,
            "housenumber": self.precision[PersonLocation.Precision.HOUSENUMBER],
            "street": self.precision[PersonLocation.Precision.STREET],
            "municipality": self.precision[PersonLocation.Precision.MUNICIPALITY],
            "no_address": self.precision[PersonLocation.Precision.NO_ADDRESS],
            "unmatched_count": self.unmatched_count,
            "unmatched": self.unmatched,
            "bureau_from_roll": self.bureau_source[PersonLocation.BureauSource.ROLL],
            "bureau_from_address": self.bureau_source[PersonLocation.BureauSource.ADDRESS],
            "bureau_from_point": self.bureau_source[PersonLocation.BureauSource.POINT],
            "without_bureau": self.bureau_source[PersonLocation.BureauSource.NONE],
            "with_iris": self.with_iris,
        }


def _chunks(people: QuerySet[Person]) -> Iterator[list[dict[str, Any]]]:
    last = 0
    while True:
        rows = list(people.filter(pk__gt=last).order_by("pk").values(*PERSON_FIELDS)[:BATCH_SIZE])
        if not rows:
            return
        yield rows
        last = rows[-1]["pk"]


def _address_text(row: dict[str, Any]) -> str:
    street = " ".join(
        p for p in (row["street_number"], row["street_repetition"], row["street_name"]) if p
    )
    town = " ".join(p for p in (row["postcode"], row["commune_name"] or row["commune_code"]) if p)
    return ", ".join(p for p in (street, row["locality"], town) if p)


def geocode_people(
    *,
    campaign: Campaign | None = None,
    people: QuerySet[Person] | None = None,
    force: bool = False,
    actor: Any = None,
) -> dict[str, Any]:
    """Geocode the people (of a campaign, or the given queryset, or everyone). Returns the
    summary: counts per precision, per bureau source, and the addresses not found."""
    queryset = people if people is not None else people_of(campaign)
    total = queryset.count()
    geocoder = Geocoder()
    zones = _Zones()
    summary = GeocodeSummary()
    for rows in _chunks(queryset):
        _geocode_batch(rows, geocoder, zones, summary, force=force)
    summary.skipped_unchanged = total - summary.people
    result = summary.as_dict()
    if summary.people:
        record_event(
            "territory.geocode_people",
            actor=actor,
            campaign=campaign,
            data={k: v for k, v in result.items() if k != "unmatched"},
        )
    return result


@transaction.atomic
def _geocode_batch(
    rows: list[dict[str, Any]],
    geocoder: Geocoder,
    zones: _Zones,
    summary: GeocodeSummary,
    *,
    force: bool,
) -> None:
    # Settled: same address as last time, and either found at the house number with a bureau,
    # or without any address. The others (not found, street or commune only, no bureau) are
    # tried again: addresses, contours or polling stations imported since may place them.
    settled = {
        person_id: key
        for person_id, key, precision, bureau_id in PersonLocation.objects.filter(
            person_id__in=[r["pk"] for r in rows]
        ).values_list("person_id", "address_key", "precision", "bureau_id")
        if precision == PersonLocation.Precision.NO_ADDRESS
        or (precision == PersonLocation.Precision.HOUSENUMBER and bureau_id is not None)
    }
    todo = [r for r in rows if force or settled.get(r["pk"]) != location_key(r)]
    if not todo:
        return
    communes = {(r["commune_code"] or "").strip().upper() for r in todo}
    geocoder.preload(c for c in communes if c)
    zones.load(communes)
    results = []
    for row in todo:
        has_address = bool(row["street_name"] or row["locality"])
        result = None
        if has_address or row["postcode"] or row["commune_code"]:
            result = geocoder.geocode(
                AddressQuery(
                    street=row["street_name"] or row["locality"] or "",
                    number=row["street_number"] or None,
                    repetition=row["street_repetition"] or None,
                    postcode=row["postcode"] or None,
                    commune_code=(row["commune_code"] or "").strip().upper() or None,
                    commune_name=row["commune_name"] or None,
                )
            )
        results.append(result)
    found_communes = {r.commune_code for r in results if r is not None}
    zones.load(found_communes)

    locations: list[PersonLocation] = []
    people: list[Person] = []
    for row, result in zip(todo, results, strict=True):
        commune = result.commune_code if result else (row["commune_code"] or "").strip().upper()
        point = (result.lon, result.lat) if result else None
        # A commune's centre says nothing of the bureau or IRIS: only street or better.
        precise = result is not None and result.precision != Precision.MUNICIPALITY
        spot = point if precise else None
        bureau_id = zones.roll_bureau(
            (row["commune_code"] or "").strip().upper(), row["polling_station_code"] or ""
        )
        source = PersonLocation.BureauSource.ROLL if bureau_id else PersonLocation.BureauSource.NONE
        iris_id = None
        if spot is not None and commune in zones.iris:
            iris_id = zones.iris[commune].locate([spot])[0]
        if result is not None:
            iris_id = iris_id or result.iris_id
            if bureau_id is None and result.bureau_id:
                bureau_id, source = result.bureau_id, PersonLocation.BureauSource.ADDRESS
            if bureau_id is None and commune in zones.bureaux:
                in_contour = zones.bureaux[commune].locate([spot])[0] if spot else None
                if in_contour:
                    bureau_id, source = in_contour, PersonLocation.BureauSource.POINT
        if result is not None:
            precision = str(result.precision)
        elif row["street_name"] or row["locality"] or row["postcode"] or row["commune_code"]:
            precision = PersonLocation.Precision.UNMATCHED
        else:
            precision = PersonLocation.Precision.NO_ADDRESS
        summary.people += 1
        summary.precision[precision] += 1
        summary.bureau_source[source] += 1
        if iris_id:
            summary.with_iris += 1
        if precision == PersonLocation.Precision.UNMATCHED:
            summary.unmatched_count += 1
            if len(summary.unmatched) < MAX_REPORTED:
                summary.unmatched.append({"person": row["pk"], "address": _address_text(row)})
        iris_code = zones.iris_code.get(iris_id, "") if iris_id else ""
        if iris_id and not iris_code and result is not None and iris_id == result.iris_id:
            iris_code = result.iris_code or ""
        locations.append(
            PersonLocation(
                person_id=row["pk"],
                precision=precision,
                score=result.score if result else None,
                label=(result.label if result else "")[:300],
                address_key=location_key(row),
                bureau_id=bureau_id,
                bureau_source=source,
                iris_id=iris_id,
            )
        )
        lon, lat = point if point else (None, None)
        if (row["longitude"], row["latitude"], row["iris_code"]) != (lon, lat, iris_code):
            people.append(Person(pk=row["pk"], longitude=lon, latitude=lat, iris_code=iris_code))
    PersonLocation.objects.bulk_create(
        locations,
        update_conflicts=True,
        unique_fields=["person"],
        update_fields=[
            "precision", "score", "label", "address_key", "bureau", "bureau_source", "iris",
            "geocoded_at",
        ],
    )  # fmt: skip
    Person.objects.bulk_update(people, ["longitude", "latitude", "iris_code"], batch_size=1000)
