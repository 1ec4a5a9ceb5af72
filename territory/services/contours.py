"""Contours of bureaux de vote: imported (GeoJSON/TopoJSON) when available, otherwise computed
from the bureau's voter addresses (Voronoi cells merged per bureau, marked approximate), then
addresses and IRIS weights assigned from them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import shapely
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from cocarde.audit.services import record_event
from territory.formats import codes
from territory.formats.common import FormatError
from territory.formats.geojson import read_features
from territory.models import Address, BureauAddress, BureauIrisWeight, Zone
from territory.services.geometry import LocalProjection, from_geojson, to_geojson
from territory.services.zones import RollBureau, _ensure_bureaux
from territory.services.zones import changed as _changed

# INSEE drops points geocoded worse than this before drawing contours (street or town level).
MIN_GEO_SCORE = 0.7
ENVELOPE_BUFFER_M = 150.0

BUREAU_ID_KEYS = (
    "id_bv",
    "codeBureauVote",
    "id_brut_bv_reu",
    "id_brut_bv",
    "id_brut_insee",
    "code_bv",
)
COMMUNE_KEYS = ("codeCommune", "code_commune", "insee", "INSEE_COM", "com", "code_insee")
NUMBER_KEYS = ("numeroBureauVote", "num_bv", "bureau", "code", "numero")


def _bureau_zone_code(props: dict[str, Any], index: int) -> str:
    for key in BUREAU_ID_KEYS:
        value = str(props.get(key) or "").strip()
        if "_" in value:
            commune, _sep, number = value.partition("_")
            return codes.bureau_zone_code(
                commune.upper(), codes.bureau_code(number, line=index, field=key)
            )
    commune = next((str(props[k]).strip() for k in COMMUNE_KEYS if props.get(k)), "")
    number = next(
        (str(props[k]).strip() for k in NUMBER_KEYS if props.get(k) not in (None, "")), ""
    )
    if commune and number:
        return codes.bureau_zone_code(
            commune.upper().zfill(5), codes.bureau_code(number, line=index, field="bureau")
        )
    raise FormatError(
        _(
            "feature %(index)s names no polling station (expected id_bv, codeBureauVote, or a "
            "commune code and a bureau number)"
        )
        % {"index": index},
        field="properties",
    )


def _store_geometry(zone: Zone, geom: BaseGeometry, source: str) -> bool:
    geometry = to_geojson(geom)
    centroid = geom.representative_point()
    changed = (
        zone.geometry != geometry
        or zone.geometry_source != source
        or zone.centroid_lon != round(centroid.x, 6)
    )
    zone.geometry = geometry
    zone.geometry_source = source
    zone.centroid_lon = round(centroid.x, 6)
    zone.centroid_lat = round(centroid.y, 6)
    return changed


@transaction.atomic
def import_bureau_contours(path: str | Path, *, actor: Any) -> dict[str, Any]:
    """Exact contours of bureaux from a GeoJSON or TopoJSON file (WGS84)."""
    features = read_features(path)
    by_code: dict[str, BaseGeometry] = {}
    for index, (props, geometry) in enumerate(features, start=1):
        code = _bureau_zone_code(props, index)
        geom = from_geojson(geometry)
        by_code[code] = by_code[code].union(geom) if code in by_code else geom
    rows = {code: RollBureau(code.split("_")[0], code.split("_")[1]) for code in by_code}
    zones = _ensure_bureaux(rows, actor=actor, rename=False)
    changed = [
        z
        for code, z in zones.items()
        if _store_geometry(z, by_code[code], Zone.GeometrySource.IMPORTED)
    ]
    Zone.objects.bulk_update(
        changed, ["geometry", "geometry_source", "centroid_lon", "centroid_lat"]
    )
    communes = sorted({code.split("_")[0] for code in by_code})
    assigned = refresh_assignments(communes)
    summary = {
        "file": Path(path).name,
        "contours": len(by_code),
        "updated": len(changed),
        "unchanged": len(by_code) - len(changed),
        "communes": len(communes),
        **assigned,
    }
    if _changed(summary):
        record_event("territory.import_contours", actor=actor, data=summary)
    return summary


def _commune_bureaux(commune_code: str) -> list[Zone]:
    return list(
        Zone.objects.filter(
            type=Zone.Type.BUREAU, parents__type=Zone.Type.COMMUNE, parents__code=commune_code
        )
    )


def _envelope(commune_code: str, points: BaseGeometry, projection: LocalProjection) -> BaseGeometry:
    """The commune's contour if known, else the union of its IRIS, always with every point."""
    commune = Zone.objects.filter(type=Zone.Type.COMMUNE, code=commune_code).first()
    hull = projection.forward(points).convex_hull.buffer(ENVELOPE_BUFFER_M)
    if (
        commune is not None
        and commune.geometry
        and commune.geometry_source == Zone.GeometrySource.IMPORTED
    ):
        return projection.forward(from_geojson(commune.geometry)).union(hull.buffer(0))
    iris = [
        from_geojson(z.geometry)
        for z in Zone.objects.filter(
            type=Zone.Type.IRIS,
            parents__code=commune_code,
            parents__type=Zone.Type.COMMUNE,
            geometry__isnull=False,
        )
    ]
    if iris:
        return projection.forward(shapely.union_all(iris)).union(hull)
    return hull


def compute_commune_contours(commune_code: str, *, force: bool = False) -> dict[str, int]:
    """Voronoi cells of the bureau's well-geocoded voter addresses, merged per bureau and cut
    to the commune. Imported contours are kept unless `force`."""
    bureaux = {z.pk: z for z in _commune_bureaux(commune_code)}
    if not bureaux:
        return {"computed": 0, "kept": 0}
    if not force and any(
        z.geometry_source == Zone.GeometrySource.IMPORTED for z in bureaux.values()
    ):
        return {"computed": 0, "kept": len(bureaux)}
    rows = (
        BureauAddress.objects.filter(bureau_id__in=list(bureaux))
        .filter(Q(geo_score__gt=MIN_GEO_SCORE) | Q(geo_type="housenumber"))
        .values_list("bureau_id", "lon", "lat")
    )
    # One point per position: the bureau with most voter addresses there keeps it.
    by_position: dict[tuple[float, float], Counter[int]] = defaultdict(Counter)
    for bureau_id, lon, lat in rows:
        by_position[(round(lon, 6), round(lat, 6))][bureau_id] += 1
    if not by_position:
        return {"computed": 0, "kept": 0}
    positions = list(by_position)
    owners = [by_position[p].most_common(1)[0][0] for p in positions]
    lat0 = sum(p[1] for p in positions) / len(positions)
    projection = LocalProjection(lat0)
    points = shapely.MultiPoint(positions)
    envelope = _envelope(commune_code, points, projection)
    local_points = [projection.forward(shapely.Point(p)) for p in positions]
    cells_by_bureau: dict[int, list[BaseGeometry]] = defaultdict(list)
    if len(set(owners)) == 1:
        cells_by_bureau[owners[0]].append(envelope)
    else:
        diagram = shapely.voronoi_polygons(shapely.MultiPoint(local_points), extend_to=envelope)
        tree = shapely.STRtree(local_points)
        for cell in diagram.geoms:
            for index in tree.query(cell, predicate="contains"):
                cells_by_bureau[owners[int(index)]].append(cell.intersection(envelope))
    changed = []
    for bureau_id, cells in cells_by_bureau.items():
        merged = shapely.union_all(cells).buffer(0.5).buffer(-0.5).simplify(1.0)
        source = (
            Zone.GeometrySource.VORONOI if len(cells_by_bureau) > 1 else Zone.GeometrySource.HULL
        )
        zone = bureaux[bureau_id]
        if _store_geometry(zone, projection.backward(merged), source):
            changed.append(zone)
    Zone.objects.bulk_update(
        changed, ["geometry", "geometry_source", "centroid_lon", "centroid_lat"]
    )
    return {"computed": len(cells_by_bureau), "kept": 0}


@transaction.atomic
def compute_contours(
    commune_codes: Sequence[str], *, actor: Any, force: bool = False
) -> dict[str, Any]:
    computed = kept = 0
    for code in commune_codes:
        counts = compute_commune_contours(code, force=force)
        computed += counts["computed"]
        kept += counts["kept"]
    assigned = refresh_assignments(commune_codes)
    summary = {
        "communes": len(commune_codes),
        "computed": computed,
        "kept_imported": kept,
        **assigned,
    }
    record_event("territory.compute_contours", actor=actor, data=summary)
    return summary


def _polygons(zone_type: str, commune_codes: Iterable[str]) -> tuple[list[int], list[BaseGeometry]]:
    zones = Zone.objects.filter(
        type=zone_type,
        parents__type=Zone.Type.COMMUNE,
        parents__code__in=list(commune_codes),
        geometry__isnull=False,
    ).values_list("pk", "geometry")
    ids, geoms = [], []
    for pk, geometry in zones:
        ids.append(pk)
        geoms.append(from_geojson(geometry))
    return ids, geoms


def _locate(
    points: list[tuple[float, float]], ids: list[int], geoms: list[BaseGeometry]
) -> list[int | None]:
    found: list[int | None] = [None] * len(points)
    if not geoms or not points:
        return found
    tree = shapely.STRtree(geoms)
    point_geoms = shapely.points(points)
    inputs, targets = tree.query(point_geoms, predicate="intersects")
    for i, t in zip(inputs.tolist(), targets.tolist(), strict=True):
        if found[i] is None:
            found[i] = ids[t]
    return found


def refresh_assignments(commune_codes: Sequence[str]) -> dict[str, int]:
    """Give every BAN address and voter address of these communes its IRIS and bureau (from
    contours; for BAN addresses outside every contour, the bureau of the nearest voter
    address), then recompute the bureau/IRIS weights."""
    commune_codes = list(commune_codes)
    iris_ids, iris_geoms = _polygons(Zone.Type.IRIS, commune_codes)
    bureau_ids, bureau_geoms = _polygons(Zone.Type.BUREAU, commune_codes)
    bureau_pks = [z.pk for code in commune_codes for z in _commune_bureaux(code)]

    voter_rows = list(
        BureauAddress.objects.filter(bureau_id__in=bureau_pks).values_list(
            "pk", "lon", "lat", "iris_id", "bureau_id", "geo_score", "geo_type"
        )
    )
    voter_iris = _locate([(r[1], r[2]) for r in voter_rows], iris_ids, iris_geoms)
    changed_voters = [
        BureauAddress(pk=r[0], iris_id=iris)
        for r, iris in zip(voter_rows, voter_iris, strict=True)
        if r[3] != iris
    ]
    BureauAddress.objects.bulk_update(changed_voters, ["iris_id"], batch_size=5000)

    good_voters = [
        (r[1], r[2], r[4]) for r in voter_rows
        if r[6] == "housenumber" or (r[5] is not None and r[5] > MIN_GEO_SCORE)
    ]  # fmt: skip
    nearest_tree = (
        shapely.STRtree(shapely.points([(x, y) for x, y, _b in good_voters]))
        if good_voters
        else None
    )

    address_rows = list(
        Address.objects.filter(commune_code__in=commune_codes).values_list(
            "pk", "lon", "lat", "iris_id", "bureau_id"
        )
    )
    points = [(r[1], r[2]) for r in address_rows]
    address_iris = _locate(points, iris_ids, iris_geoms)
    address_bureau = _locate(points, bureau_ids, bureau_geoms)
    if nearest_tree is not None:
        missing = [i for i, b in enumerate(address_bureau) if b is None]
        if missing:
            nearest = nearest_tree.nearest(shapely.points([points[i] for i in missing]))
            for i, n in zip(missing, nearest.tolist(), strict=True):
                address_bureau[i] = good_voters[n][2]
    changed_addresses = [
        Address(pk=r[0], iris_id=iris, bureau_id=bureau)
        for r, iris, bureau in zip(address_rows, address_iris, address_bureau, strict=True)
        if (r[3], r[4]) != (iris, bureau)
    ]
    Address.objects.bulk_update(changed_addresses, ["iris_id", "bureau_id"], batch_size=5000)

    # Weights: voter addresses when INSEE's table was imported, else BAN addresses.
    weights: Counter[tuple[int, int]] = Counter()
    for r, iris in zip(voter_rows, voter_iris, strict=True):
        well_located = r[6] == "housenumber" or (r[5] is not None and r[5] > MIN_GEO_SCORE)
        if iris is not None and well_located:
            weights[(r[4], iris)] += 1
    if not weights:
        for bureau, iris in zip(address_bureau, address_iris, strict=True):
            if bureau is not None and iris is not None:
                weights[(bureau, iris)] += 1
    BureauIrisWeight.objects.filter(bureau_id__in=bureau_pks).delete()
    BureauIrisWeight.objects.bulk_create(
        [BureauIrisWeight(bureau_id=b, iris_id=i, addresses=n) for (b, i), n in weights.items()],
        batch_size=5000,
    )
    return {
        "addresses_with_bureau": sum(1 for b in address_bureau if b is not None),
        "addresses_with_iris": sum(1 for i in address_iris if i is not None),
        "weights": len(weights),
    }
