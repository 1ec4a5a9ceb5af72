"""Spatial criteria without PostGIS: the SQL tests agree with plain-Python geometry."""

from __future__ import annotations

import math
import random

import pytest
from django.db.models import Q

from crm.models import Person
from crm.segments import geometry
from tests.fixtures.components import require_postgres

pytestmark = pytest.mark.django_db

# A concave "C" shape around Blois, the kind of outline staff draw around a few streets.
C_SHAPE = [
    {"lat": 47.60, "lon": 1.30}, {"lat": 47.60, "lon": 1.38}, {"lat": 47.59, "lon": 1.38},
    {"lat": 47.59, "lon": 1.32}, {"lat": 47.57, "lon": 1.32}, {"lat": 47.57, "lon": 1.38},
    {"lat": 47.56, "lon": 1.38}, {"lat": 47.56, "lon": 1.30},
]  # fmt: skip


def inside(lat: float, lon: float, ring: list[dict]) -> bool:
    crossings = 0
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        (x1, y1), (x2, y2) = (a["lon"], a["lat"]), (b["lon"], b["lat"])
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            crossings += 1
    return crossings % 2 == 1


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * geometry.EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@pytest.fixture
def scattered(db):
    rng = random.Random(6)
    Person.objects.bulk_create(
        Person(first_names=f"p{i}", latitude=rng.uniform(47.54, 47.62),
               longitude=rng.uniform(1.28, 1.40))
        for i in range(600)
    )  # fmt: skip
    Person.objects.create(first_names="nowhere")  # no coordinates
    return {p.pk: (p.latitude, p.longitude) for p in Person.objects.exclude(latitude=None)}


def test_drawn_area_matches_python_ray_casting_in_both_sql_forms(scattered):
    require_postgres()
    expected = {pk for pk, (lat, lon) in scattered.items() if inside(lat, lon, C_SHAPE)}
    assert 50 < len(expected) < 550  # the shape really cuts the cloud, concave part included
    native = set(
        Person.objects.filter(geometry.inside_polygon(C_SHAPE)).values_list("pk", flat=True)
    )
    portable = set(
        Person.objects.filter(
            geometry.bounding_box(C_SHAPE) & Q(geometry.InsidePolygonPortable(C_SHAPE))
        ).values_list("pk", flat=True)
    )
    assert native == expected
    assert portable == expected
    outside = set(
        Person.objects.filter(~geometry.inside_polygon(C_SHAPE)).values_list("pk", flat=True)
    )
    assert outside == set(Person.objects.values_list("pk", flat=True)) - expected


def test_radius_matches_python_haversine(scattered):
    center = (47.5861, 1.3359)
    for km in (0.5, 2, 3.7):
        expected = {
            pk for pk, (lat, lon) in scattered.items() if haversine(*center, lat, lon) <= km
        }
        found = set(
            Person.objects.filter(geometry.within_radius(*center, km)).values_list("pk", flat=True)
        )
        assert found == expected
        assert expected  # each radius holds someone
