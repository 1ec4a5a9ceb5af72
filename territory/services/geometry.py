"""Geometry helpers on top of shapely: GeoJSON in and out, and a local metric projection so
Voronoi cells and buffers are computed in metres, not degrees."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

METRES_PER_DEGREE_LAT = 110_574.0
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0


def from_geojson(geometry: Any) -> BaseGeometry:
    geom = shape(geometry)
    return geom if geom.is_valid else shapely.make_valid(geom)


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON with coordinates rounded to 6 decimals (about 10 cm)."""
    rounded = shapely.set_precision(geom, 1e-6)
    if rounded.is_empty:
        rounded = geom
    polygons = [g for g in getattr(rounded, "geoms", [rounded]) if g.geom_type == "Polygon"]
    if rounded.geom_type == "GeometryCollection":
        rounded = shapely.MultiPolygon(polygons) if len(polygons) > 1 else polygons[0]
    # Through JSON, so the result compares equal to what the database gives back (lists).
    return dict(json.loads(json.dumps(mapping(rounded))))


class LocalProjection:
    """Equirectangular projection around a latitude: exact enough at a commune's scale."""

    def __init__(self, lat0: float):
        self.kx = METRES_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(lat0))
        self.ky = METRES_PER_DEGREE_LAT

    def forward(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda c: c * np.array([self.kx, self.ky]))

    def backward(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, lambda c: c / np.array([self.kx, self.ky]))
