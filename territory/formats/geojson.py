"""GeoJSON and TopoJSON features, read into (properties, GeoJSON geometry) pairs in WGS84."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from territory.formats.common import FormatError, decode, open_bytes

Feature = tuple[dict[str, Any], Any]  # (properties, GeoJSON geometry)


def read_features(path: str | Path) -> list[Feature]:
    text, _encoding = decode(open_bytes(path))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormatError(
            _("not valid JSON: %(error)s") % {"error": error.msg}, line=error.lineno
        ) from None
    if not isinstance(data, dict):
        raise FormatError(_("expected a GeoJSON FeatureCollection or a TopoJSON Topology"))
    features: list[Feature]
    if data.get("type") == "Topology":
        features = _topojson_features(data)
    elif data.get("type") == "FeatureCollection":
        _check_crs(data)
        features = [
            (f.get("properties") or {}, f.get("geometry"))
            for f in data.get("features", [])
            if isinstance(f, dict)
        ]
    else:
        raise FormatError(_("expected a GeoJSON FeatureCollection or a TopoJSON Topology"))
    for index, (_props, geometry) in enumerate(features, start=1):
        _check_geometry(geometry, index)
    return features


def _check_crs(data: dict[str, Any]) -> None:
    name = str(((data.get("crs") or {}).get("properties") or {}).get("name", ""))
    if name and not any(token in name for token in ("4326", "CRS84")):
        raise FormatError(
            _(
                "coordinates are in %(crs)s; convert to WGS84 longitude/latitude first "
                "(ogr2ogr -t_srs EPSG:4326)"
            )
            % {"crs": name}
        )


def _check_geometry(geometry: Any, index: int) -> None:
    if not isinstance(geometry, dict) or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
        raise FormatError(
            _("feature %(index)s has no polygon geometry") % {"index": index}, field="geometry"
        )

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], int | float):
            lon, lat = coords[0], coords[1]
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise FormatError(
                    _(
                        "feature %(index)s has coordinates outside longitude/latitude "
                        "(%(lon)s, %(lat)s): convert to WGS84 first"
                    )
                    % {"index": index, "lon": lon, "lat": lat},
                    field="geometry",
                )
            return
        for part in coords:
            walk(part)

    walk(geometry.get("coordinates") or [])


def _topojson_features(topology: dict[str, Any]) -> list[Feature]:
    """Decode TopoJSON arcs (quantised and delta-encoded when a transform is given)."""
    transform = topology.get("transform")
    arcs: list[list[list[float]]] = []
    for arc in topology.get("arcs", []):
        points: list[list[float]] = []
        x = y = 0.0
        for position in arc:
            if transform:
                x += position[0]
                y += position[1]
                sx, sy = transform["scale"]
                tx, ty = transform["translate"]
                points.append([x * sx + tx, y * sy + ty])
            else:
                points.append([float(position[0]), float(position[1])])
        arcs.append(points)

    def ring(indexes: list[int]) -> list[list[float]]:
        coords: list[list[float]] = []
        for i in indexes:
            arc = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
            coords.extend(arc if not coords else arc[1:])
        return coords

    def geometry(obj: dict[str, Any]) -> dict[str, Any] | None:
        if obj.get("type") == "Polygon":
            return {"type": "Polygon", "coordinates": [ring(r) for r in obj["arcs"]]}
        if obj.get("type") == "MultiPolygon":
            return {
                "type": "MultiPolygon",
                "coordinates": [[ring(r) for r in polygon] for polygon in obj["arcs"]],
            }
        return None

    features: list[Feature] = []
    for obj in (topology.get("objects") or {}).values():
        members = obj.get("geometries", [obj]) if obj.get("type") == "GeometryCollection" else [obj]
        for member in members:
            geom = geometry(member)
            if geom is not None:
                features.append((member.get("properties") or {}, geom))
    return features
