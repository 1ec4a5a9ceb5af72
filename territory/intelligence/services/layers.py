"""Custom data layers: import a CSV (addresses geocoded offline against the BAN table, or
coordinates) or a GeoJSON file (points or areas), then count it per bureau de vote and IRIS.

Each row becomes a `LayerFeature`; the BAN addresses it covers become `LayerAddress` rows (the
address a row was geocoded to, the nearest address of a point within `NEAREST_METRES`, every
address inside an area). Those give the share of a zone's addresses in the layer and the people
living at an address of the layer (segment criterion). Re-importing a layer replaces it whole,
in one transaction; a file that cannot be read changes nothing. Rows that could not be placed are
listed in `Layer.unplaced` with their line and the reason.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from shapely.geometry import Point, shape

from crm.normalize import name_key
from territory.formats.common import FormatError, decode, normalise_header, sniff_delimiter
from territory.geocoding.engine import AddressQuery, Geocoder, Precision
from territory.intelligence.models import Layer, LayerAddress, LayerFeature, LayerZoneFigure
from territory.models import Address, Zone

MAX_ROWS = 50_000
NEAREST_METRES = 40.0
METRES_PER_DEGREE = 111_320.0


class LayerImportError(FormatError):
    """The file cannot be imported at all (nothing was changed)."""


LAT_COLUMNS = ("lat", "latitude", "y", "lat_wgs84")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "lon_wgs84")
FULL_ADDRESS_COLUMNS = ("adresse", "address", "adresse_complete", "full_address")
NUMBER_COLUMNS = ("numero", "num", "number", "no", "n", "housenumber", "numero_voie")
STREET_COLUMNS = ("voie", "rue", "street", "nom_voie", "libelle_voie", "adresse_voie")
POSTCODE_COLUMNS = ("code_postal", "cp", "postcode", "postal_code", "zip")
COMMUNE_NAME_COLUMNS = ("commune", "ville", "city", "nom_commune", "town")
COMMUNE_CODE_COLUMNS = ("code_insee", "insee", "code_commune", "commune_code", "citycode")
LABEL_COLUMNS = ("nom", "name", "label", "libelle", "titre", "title", "intitule")


@dataclass
class ParsedFeature:
    row: int
    label: str
    properties: dict[str, str]
    geometry: dict[str, Any]
    lon: float
    lat: float
    precision: str = ""
    address_id: int | None = None
    bureau_id: int | None = None
    iris_id: int | None = None


@dataclass
class ParsedLayer:
    geometry: str
    fields: list[str]
    features: list[ParsedFeature] = field(default_factory=list)
    unplaced: list[dict[str, Any]] = field(default_factory=list)


def _pick(columns: dict[str, str], names: Iterable[str]) -> str | None:
    for name in names:
        if name in columns:
            return columns[name]
    return None


def _float(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_POSTCODE = re.compile(r"\b(\d{5})\b")


def _split_full_address(text: str) -> tuple[str, str | None, str | None]:
    """'12 rue des Lilas, 41400 Montrichard' -> ('12 rue des Lilas', '41400', 'Montrichard')."""
    match = _POSTCODE.search(text)
    if not match:
        return text.strip(" ,"), None, None
    street = text[: match.start()].strip(" ,")
    commune = text[match.end() :].strip(" ,") or None
    return street, match.group(1), commune


def parse_csv(raw: bytes, geocoder: Geocoder, *, default_communes: list[str]) -> ParsedLayer:
    text, _encoding = decode(raw)
    if not text.strip():
        raise LayerImportError(_("the file is empty"))
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    columns = {normalise_header(h): h for h in header}
    index = {h: i for i, h in enumerate(header)}
    lat_col, lon_col = _pick(columns, LAT_COLUMNS), _pick(columns, LON_COLUMNS)
    full_col = _pick(columns, FULL_ADDRESS_COLUMNS)
    street_col = _pick(columns, STREET_COLUMNS)
    if not (lat_col and lon_col) and not (full_col or street_col):
        raise LayerImportError(
            _(
                "no coordinates (lat, lon) and no address column (adresse, or voie with "
                "numero, code_postal, commune) in the header"
            ),
            line=1,
        )
    number_col = _pick(columns, NUMBER_COLUMNS)
    postcode_col = _pick(columns, POSTCODE_COLUMNS)
    name_col = _pick(columns, COMMUNE_NAME_COLUMNS)
    code_col = _pick(columns, COMMUNE_CODE_COLUMNS)
    label_col = _pick(columns, LABEL_COLUMNS) or header[0]
    parsed = ParsedLayer(geometry=Layer.Geometry.POINTS, fields=header)
    if default_communes:
        geocoder.preload(default_communes)
    for count, fields in enumerate(reader, start=1):
        if count > MAX_ROWS:
            raise LayerImportError(_("more than %(max)s rows") % {"max": MAX_ROWS})
        if not any(f.strip() for f in fields):
            continue
        line = reader.line_num

        def get(column: str | None, fields: list[str] = fields) -> str:
            if column is None:
                return ""
            position = index[column]
            return fields[position].strip() if position < len(fields) else ""

        props = {h: get(h) for h in header}
        label = get(label_col)
        lat, lon = _float(get(lat_col)), _float(get(lon_col))
        if lat_col and lon_col and (get(lat_col) or get(lon_col)):
            if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                parsed.unplaced.append(
                    {"line": line, "label": label, "reason": _("invalid coordinates")}
                )
                continue
            parsed.features.append(_point(line, label, props, lon, lat, "coordinates"))
            continue
        if full_col and get(full_col):
            street, postcode, commune_name = _split_full_address(get(full_col))
            number = None
        else:
            street, number = get(street_col), get(number_col) or None
            postcode, commune_name = get(postcode_col) or None, get(name_col) or None
        commune_code = get(code_col) or None
        if not commune_code and not postcode and not commune_name and len(default_communes) == 1:
            commune_code = default_communes[0]
        if not street:
            parsed.unplaced.append({"line": line, "label": label, "reason": _("no address")})
            continue
        result = geocoder.geocode(
            AddressQuery(
                street=street,
                number=number,
                postcode=postcode,
                commune_code=commune_code,
                commune_name=commune_name,
            )
        )
        if result is None or result.precision == Precision.MUNICIPALITY:
            reason = (
                _("address not found in the address base (BAN)")
                if result is None
                else _("only the commune was found, not the street")
            )
            parsed.unplaced.append({"line": line, "label": label, "reason": reason})
            continue
        feature = _point(line, label, props, result.lon, result.lat, str(result.precision))
        feature.address_id = result.address_id
        feature.bureau_id, feature.iris_id = result.bureau_id, result.iris_id
        parsed.features.append(feature)
    return parsed


def _point(
    line: int, label: str, props: dict[str, str], lon: float, lat: float, precision: str
) -> ParsedFeature:
    return ParsedFeature(
        row=line,
        label=label[:300],
        properties=props,
        geometry={"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
        lon=lon,
        lat=lat,
        precision=precision,
    )


def parse_geojson(raw: bytes) -> ParsedLayer:
    text, _encoding = decode(raw)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LayerImportError(_("not valid GeoJSON: %(error)s") % {"error": exc}) from None
    if not isinstance(data, dict):
        raise LayerImportError(_("not valid GeoJSON: a FeatureCollection is expected"))
    if data.get("type") == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    features = data.get("features")
    if data.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise LayerImportError(_("not valid GeoJSON: a FeatureCollection is expected"))
    if len(features) > MAX_ROWS:
        raise LayerImportError(_("more than %(max)s rows") % {"max": MAX_ROWS})
    keys: list[str] = []
    kinds: set[str] = set()
    parsed = ParsedLayer(geometry=Layer.Geometry.POINTS, fields=keys)
    for number, item in enumerate(features, start=1):
        props = (item or {}).get("properties") or {} if isinstance(item, dict) else {}
        props = {str(k): "" if v is None else str(v) for k, v in props.items()}
        for key in props:
            if key not in keys:
                keys.append(key)
        label = next(
            (props[k] for k in props if normalise_header(k) in LABEL_COLUMNS and props[k]), ""
        )
        geometry = item.get("geometry") if isinstance(item, dict) else None
        try:
            geom = shape(geometry)
        except Exception:  # noqa: BLE001 - shapely raises many kinds on bad input
            parsed.unplaced.append(
                {"line": number, "label": label, "reason": _("missing or invalid geometry")}
            )
            continue
        if geom.is_empty or geom.geom_type not in {
            "Point",
            "MultiPoint",
            "Polygon",
            "MultiPolygon",
        }:
            parsed.unplaced.append(
                {"line": number, "label": label, "reason": _("only points and areas are supported")}
            )
            continue
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            parsed.unplaced.append(
                {
                    "line": number,
                    "label": label,
                    "reason": _("coordinates are not longitude/latitude (WGS84)"),
                }
            )
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        centre = geom.representative_point() if "Polygon" in geom.geom_type else geom.centroid
        kind = "area" if "Polygon" in geom.geom_type else "point"
        kinds.add(kind)
        parsed.features.append(
            ParsedFeature(
                row=number,
                label=label[:300],
                properties=props,
                geometry=shapely.geometry.mapping(geom)
                if geom is not None
                else {},  # shapely mapping: tuples
                lon=centre.x,
                lat=centre.y,
                precision=kind,
            )
        )
    for feature in parsed.features:
        feature.geometry = json.loads(json.dumps(feature.geometry))
    if kinds == {"area"}:
        parsed.geometry = Layer.Geometry.AREAS
    elif len(kinds) > 1:
        parsed.geometry = Layer.Geometry.MIXED
    return parsed


# --- placing features on BAN addresses, bureaux and IRIS ------------------------------------


@dataclass
class _AddressPoint:
    pk: int
    lon: float
    lat: float
    bureau_id: int | None
    iris_id: int | None


def _addresses_in(bounds: tuple[float, float, float, float]) -> list[_AddressPoint]:
    minx, miny, maxx, maxy = bounds
    rows = Address.objects.filter(
        lon__gte=minx, lon__lte=maxx, lat__gte=miny, lat__lte=maxy
    ).values_list("pk", "lon", "lat", "bureau_id", "iris_id")
    return [_AddressPoint(*row) for row in rows]


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    kx = METRES_PER_DEGREE * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lon1 - lon2) * kx, (lat1 - lat2) * METRES_PER_DEGREE)


def _place(parsed: ParsedLayer) -> dict[int, set[int]]:
    """Fill each feature's bureau and IRIS; return the BAN address ids each feature covers."""
    covered: dict[int, set[int]] = defaultdict(set)
    if not parsed.features:
        return covered
    margin = NEAREST_METRES / METRES_PER_DEGREE * 2
    geoms = [shape(f.geometry) for f in parsed.features]
    minx = min(g.bounds[0] for g in geoms) - margin
    miny = min(g.bounds[1] for g in geoms) - margin
    maxx = max(g.bounds[2] for g in geoms) + margin
    maxy = max(g.bounds[3] for g in geoms) + margin
    points = _addresses_in((minx, miny, maxx, maxy))
    tree = shapely.STRtree([Point(p.lon, p.lat) for p in points]) if points else None
    bureaux = _bureau_shapes((minx, miny, maxx, maxy))
    for index, (feature, geom) in enumerate(zip(parsed.features, geoms, strict=True)):
        if feature.address_id is not None:
            covered[index].add(feature.address_id)
        elif tree is not None and geom.geom_type in {"Point", "MultiPoint"}:
            nearest = tree.nearest(Point(feature.lon, feature.lat))
            candidate = points[int(nearest)]
            if (
                _distance_m(feature.lon, feature.lat, candidate.lon, candidate.lat)
                <= NEAREST_METRES
            ):
                covered[index].add(candidate.pk)
                if feature.bureau_id is None:
                    feature.bureau_id, feature.iris_id = candidate.bureau_id, candidate.iris_id
        elif tree is not None:
            for hit in tree.query(geom, predicate="contains"):
                covered[index].add(points[int(hit)].pk)
        if feature.bureau_id is None:
            centre = Point(feature.lon, feature.lat)
            feature.bureau_id = next((pk for pk, s in bureaux if s.covers(centre)), None)
        if feature.iris_id is None and covered[index]:
            by_pk = {p.pk: p for p in points}
            irises = {by_pk[a].iris_id for a in covered[index] if a in by_pk}
            if len(irises) == 1:
                feature.iris_id = irises.pop()
    return covered


def _bureau_shapes(bounds: tuple[float, float, float, float]) -> list[tuple[int, Any]]:
    minx, miny, maxx, maxy = bounds
    pad = 0.05
    rows = Zone.objects.filter(
        type=Zone.Type.BUREAU,
        geometry__isnull=False,
        centroid_lon__gte=minx - pad,
        centroid_lon__lte=maxx + pad,
        centroid_lat__gte=miny - pad,
        centroid_lat__lte=maxy + pad,
    ).values_list("pk", "geometry")
    out = []
    for pk, geometry in rows:
        try:
            out.append((pk, shape(geometry)))
        except Exception:  # noqa: BLE001, S112 - a broken contour is skipped, not fatal
            continue
    return out


# --- writing -----------------------------------------------------------------------------


def import_layer(
    raw: bytes,
    *,
    actor: Any,
    filename: str,
    name: str,
    campaign: Any = None,
    description: str = "",
    color: str = "",
) -> Layer:
    """Import (or re-import: same campaign and name) a layer. Raises LayerImportError when the
    file cannot be read; rows that cannot be placed are reported in `layer.unplaced`."""
    name = name.strip()
    if not name:
        raise LayerImportError(_("give the layer a name"))
    if color and not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        raise LayerImportError(_("the colour must be written #rrggbb"))
    is_geojson = filename.lower().endswith((".geojson", ".json")) or raw.lstrip()[:1] == b"{"
    if is_geojson:
        parsed = parse_geojson(raw)
    else:
        communes = list(getattr(campaign, "commune_codes", None) or [])
        parsed = parse_csv(raw, Geocoder(), default_communes=communes)
    covered = _place(parsed)
    with transaction.atomic():
        layer, _created = Layer.objects.select_for_update().get_or_create(
            campaign=campaign, name=name
        )
        layer.features.all().delete()
        layer.addresses.all().delete()
        layer.description = description
        if color:
            layer.color = color
        layer.geometry = parsed.geometry
        layer.source_name = filename[:255]
        layer.fields = parsed.fields
        layer.feature_count = len(parsed.features)
        layer.unplaced = parsed.unplaced
        layer.imported_by = actor if getattr(actor, "is_authenticated", False) else None
        layer.save()
        LayerFeature.objects.bulk_create(
            [
                LayerFeature(
                    layer=layer,
                    row=f.row,
                    label=f.label,
                    properties=f.properties,
                    geometry=f.geometry,
                    lon=f.lon,
                    lat=f.lat,
                    precision=f.precision,
                    bureau_id=f.bureau_id,
                    iris_id=f.iris_id,
                )
                for f in parsed.features
            ],
            batch_size=2000,
        )
        address_ids = sorted(set().union(*covered.values())) if covered else []
        _write_addresses(layer, address_ids)
        aggregate(layer)
    return layer


def household_prefix(number: Any, repetition: str, street: str) -> str:
    """The start of `crm.normalize.address_key` for this BAN address."""
    return "|".join([name_key(str(number or "")), name_key(repetition), name_key(street), ""])


def _write_addresses(layer: Layer, address_ids: list[int]) -> None:
    rows = Address.objects.filter(pk__in=address_ids).values_list(
        "pk", "number", "repetition", "street", "postcode"
    )
    LayerAddress.objects.bulk_create(
        [
            LayerAddress(
                layer=layer,
                address_id=pk,
                household_prefix=household_prefix(number, repetition, street),
                postcode=postcode,
            )
            for pk, number, repetition, street, postcode in rows
        ],
        batch_size=5000,
    )


def aggregate(layer: Layer) -> None:
    """Count the layer per bureau and per IRIS: features, covered addresses, zone addresses."""
    LayerZoneFigure.objects.filter(layer=layer).delete()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"features": 0, "addresses": 0})
    for zone_field in ("bureau_id", "iris_id"):
        for zone_id, n in (
            layer.features.exclude(**{f"{zone_field}": None})
            .values_list(zone_field)
            .annotate(n=Count("pk"))
            .values_list(zone_field, "n")
        ):
            counts[zone_id]["features"] += n
        address_field = f"address__{zone_field.removesuffix('_id')}_id"
        for zone_id, n in (
            layer.addresses.exclude(**{address_field: None})
            .values_list(address_field)
            .annotate(n=Count("pk"))
            .values_list(address_field, "n")
        ):
            counts[zone_id]["addresses"] += n
    if not counts:
        return
    totals: dict[int, int] = defaultdict(int)
    for zone_field in ("bureau_id", "iris_id"):
        for zone_id, n in (
            Address.objects.filter(**{f"{zone_field}__in": list(counts)})
            .values_list(zone_field)
            .annotate(n=Count("pk"))
            .values_list(zone_field, "n")
        ):
            totals[zone_id] += n
    LayerZoneFigure.objects.bulk_create(
        [
            LayerZoneFigure(
                layer=layer,
                zone_id=zone_id,
                features=c["features"],
                addresses=c["addresses"],
                zone_addresses=totals.get(zone_id, 0),
            )
            for zone_id, c in counts.items()
        ]
    )


def delete_layer(layer: Layer, *, actor: Any) -> None:
    layer.delete()
