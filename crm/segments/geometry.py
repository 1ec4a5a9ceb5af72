"""Places on the stored latitude/longitude, without PostGIS.

Each spatial criterion is a bounding-box prefilter on `crm_person(latitude, longitude)` (a
B-tree range scan) followed by an exact test in SQL on the few rows inside the box:

- radius: the haversine great-circle distance, written with portable SQL maths functions;
- drawn area: on PostgreSQL, the built-in geometric types (`point(lon, lat) <@ polygon`,
  exact point-in-polygon in C); elsewhere (SQLite, the embedded mode), the same even-odd ray
  casting test written as SQL arithmetic, one term per edge.

Coordinates are WGS84 degrees treated as a plane inside the area, as a drawn map outline is:
right for areas of a commune or a département, not for shapes spanning the antimeridian.
"""

from __future__ import annotations

import math
from typing import Any

from django.db.models import BooleanField, Expression, F, FloatField, Q
from django.db.models.expressions import Combinable, ExpressionWrapper
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt
from django.db.models.lookups import LessThanOrEqual

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_LATITUDE = 111.32

Points = list[dict[str, float]]


def bounding_box(points: Points) -> Q:
    lats = [p["lat"] for p in points]
    lons = [p["lon"] for p in points]
    return Q(
        latitude__gte=min(lats),
        latitude__lte=max(lats),
        longitude__gte=min(lons),
        longitude__lte=max(lons),
    )


def radius_box(lat: float, lon: float, km: float) -> Q:
    dlat = km / KM_PER_DEGREE_LATITUDE
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(km / (KM_PER_DEGREE_LATITUDE * cos_lat), 180.0)
    return Q(
        latitude__gte=max(lat - dlat, -90.0),
        latitude__lte=min(lat + dlat, 90.0),
        longitude__gte=max(lon - dlon, -180.0),
        longitude__lte=min(lon + dlon, 180.0),
    )


def haversine_km(lat: float, lon: float) -> Combinable:
    """Distance in km from (lat, lon) to each person's stored coordinates."""
    half_dlat = Radians(F("latitude") - lat) / 2
    half_dlon = Radians(F("longitude") - lon) / 2
    a = Power(Sin(half_dlat), 2) + math.cos(math.radians(lat)) * Cos(
        Radians(F("latitude"))
    ) * Power(Sin(half_dlon), 2)
    return ExpressionWrapper(2 * EARTH_RADIUS_KM * ASin(Sqrt(a)), output_field=FloatField())


def within_radius(lat: float, lon: float, km: float) -> Q:
    return radius_box(lat, lon, km) & Q(LessThanOrEqual(haversine_km(lat, lon), km))


class InsidePolygon(Expression):
    """True when the person's stored point lies inside the polygon (false without a point)."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, points: Points) -> None:
        super().__init__(output_field=BooleanField())
        self.points = points
        self.lat: Any = F("latitude")
        self.lon: Any = F("longitude")

    def get_source_expressions(self) -> list[Any]:
        return [self.lat, self.lon]

    def set_source_expressions(self, exprs: Any) -> None:
        self.lat, self.lon = exprs

    def edges(self) -> list[tuple[float, float, float, float]]:
        """(x1, y1, x2, y2) of every non-horizontal edge (x: longitude, y: latitude)."""
        ring = [(p["lon"], p["lat"]) for p in self.points]
        pairs = zip(ring, ring[1:] + ring[:1], strict=True)
        return [(x1, y1, x2, y2) for (x1, y1), (x2, y2) in pairs if y1 != y2]

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        """Even-odd ray casting: a ray from the point towards +x crosses an odd number of
        edges when the point is inside. Portable arithmetic, one CASE per edge."""
        lat_sql, lat_params = compiler.compile(self.lat)
        lon_sql, lon_params = compiler.compile(self.lon)
        terms: list[str] = []
        params: list[Any] = []
        for x1, y1, x2, y2 in self.edges():
            slope = (x2 - x1) / (y2 - y1)
            terms.append(
                f"CASE WHEN (({y1!r} > {lat_sql}) <> ({y2!r} > {lat_sql})) "
                f"AND ({lon_sql} < {slope!r} * ({lat_sql} - {y1!r}) + {x1!r}) THEN 1 ELSE 0 END"
            )
            params += [*lat_params, *lat_params, *lon_params, *lat_params]
        if not terms:
            return "(1 = 0)", []
        return f"(COALESCE(({' + '.join(terms)}) %% 2, 0) = 1)", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        lat_sql, lat_params = compiler.compile(self.lat)
        lon_sql, lon_params = compiler.compile(self.lon)
        ring = ",".join(f"({p['lon']!r},{p['lat']!r})" for p in self.points)
        return (
            f"COALESCE(point({lon_sql}, {lat_sql}) <@ %s::polygon, false)",
            [*lon_params, *lat_params, f"({ring})"],
        )


class InsidePolygonPortable(InsidePolygon):
    """The ray-casting form on every database (tests compare both forms on PostgreSQL)."""

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, **extra)


def inside_polygon(points: Points) -> Q:
    return bounding_box(points) & Q(InsidePolygon(points))
