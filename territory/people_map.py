"""Our people on the territory map: any segment's people, loaded per viewport (bbox).

At low zoom the server aggregates: one SQL GROUP BY over a grid of cells of about CELL_PX
screen pixels (`floor(lon / cell)`, `floor(lat / cell)`: count and mean position per cell),
so the browser receives at most a few hundred clusters whatever the number of people. From
RAW_ZOOM on (a few streets on screen) it receives the points themselves, up to MAX_POINTS
(beyond that it keeps clustering, with smaller cells). People are read through the segment
services, scoped by cocarde.tenancy.permissions: never another campaign's people.

Only positions and counts leave the server: no name, no opinion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, F, FloatField, QuerySet, Value
from django.db.models.functions import Floor

from crm.models import Person

CELL_PX = 60  # a cluster covers about 60 × 60 screen pixels
TILE_PX = 256
RAW_ZOOM = 16
MAX_POINTS = 3000
MAX_ZOOM = 22


@dataclass(frozen=True)
class Viewport:
    west: float
    south: float
    east: float
    north: float
    zoom: int

    @classmethod
    def parse(cls, bbox: str, zoom: str) -> Viewport:
        """From `bbox=west,south,east,north` and `zoom=N`; ValueError when malformed."""
        parts = [float(p) for p in (bbox or "").split(",")]
        if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
            raise ValueError("bbox")
        west, south, east, north = parts
        if west > east or south > north:
            raise ValueError("bbox")
        level = int(zoom)
        if not 0 <= level <= MAX_ZOOM:
            raise ValueError("zoom")
        return cls(max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0), level)

    @property
    def cell(self) -> float:
        """Grid cell size in degrees at this zoom."""
        return CELL_PX * 360.0 / (TILE_PX * 2**self.zoom)


def in_viewport(people: QuerySet[Person], viewport: Viewport) -> QuerySet[Person]:
    return people.filter(
        longitude__gte=viewport.west,
        longitude__lte=viewport.east,
        latitude__gte=viewport.south,
        latitude__lte=viewport.north,
    )


def clusters(people: QuerySet[Person], cell: float) -> list[list[float]]:
    """[lon, lat, count] per grid cell (mean position of its people), one GROUP BY."""
    rows = (
        people.order_by()
        .annotate(
            gx=Floor(F("longitude") / Value(cell, output_field=FloatField())),
            gy=Floor(F("latitude") / Value(cell, output_field=FloatField())),
        )
        .values("gx", "gy")
        .annotate(n=Count("pk"), lon=Avg("longitude"), lat=Avg("latitude"))
        .values_list("lon", "lat", "n")
    )
    return [[round(lon, 6), round(lat, 6), n] for lon, lat, n in rows]


def people_layer(people: QuerySet[Person], viewport: Viewport) -> dict[str, Any]:
    """What the map draws for these people in this viewport."""
    visible = in_viewport(people, viewport)
    if viewport.zoom >= RAW_ZOOM:
        points = list(visible.order_by().values_list("longitude", "latitude")[: MAX_POINTS + 1])
        if len(points) <= MAX_POINTS:
            return {
                "mode": "points",
                "points": [[round(x or 0, 6), round(y or 0, 6)] for x, y in points],
                "total": len(points),
            }
    cells = clusters(visible, viewport.cell)
    return {"mode": "clusters", "clusters": cells, "total": sum(int(c[2]) for c in cells)}
