"""Figures of a door-to-door campaign: doors knocked, contact rate, per canvasser, turf and
polling station, and progress per building for the map. Counted from the visits (applied or
kept in history; rolled-back results do not count)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Q

from canvassing.models import CONTACT_OUTCOMES, Door, DoorCampaign, QualityFlag, Turf, Visit

COUNTED = [Visit.Status.APPLIED, Visit.Status.SUPERSEDED]


@dataclass
class Line:
    label: str
    doors: int
    knocked: int
    contacts: int

    @property
    def contact_rate(self) -> float | None:
        return self.contacts / self.knocked if self.knocked else None

    @property
    def progress(self) -> float | None:
        return self.knocked / self.doors if self.doors else None


def _visits(door_campaign: DoorCampaign) -> Any:
    return Visit.objects.filter(door_campaign=door_campaign, status__in=COUNTED)


def totals(door_campaign: DoorCampaign) -> Line:
    doors = Door.objects.filter(building__door_campaign=door_campaign).count()
    visits = _visits(door_campaign)
    knocked = visits.values("door").distinct().count()
    contacts = visits.filter(outcome__in=CONTACT_OUTCOMES).values("door").distinct().count()
    return Line("", doors, knocked, contacts)


def by_canvasser(door_campaign: DoorCampaign) -> list[dict[str, Any]]:
    rows = (
        _visits(door_campaign)
        .values("canvasser__email", "canvasser__first_name", "canvasser__last_name")
        .annotate(
            knocked=Count("pk"),
            contacts=Count("pk", filter=Q(outcome__in=CONTACT_OUTCOMES)),
            first=Min("visited_at"),
            last=Max("visited_at"),
            flagged=Count("pk", filter=Q(flagged=True)),
        )
        .order_by("-knocked")
    )
    result = []
    for row in rows:
        name = " ".join(p for p in (row["canvasser__first_name"], row["canvasser__last_name"]) if p)
        result.append(
            row
            | {
                "name": name or row["canvasser__email"] or "?",
                "contact_rate": row["contacts"] / row["knocked"] if row["knocked"] else None,
            }
        )
    return result


def by_turf(door_campaign: DoorCampaign) -> list[tuple[Turf, Line]]:
    knocked = dict(
        _visits(door_campaign)
        .values("turf")
        .annotate(n=Count("door", distinct=True))
        .values_list("turf", "n")
    )
    contacts = dict(
        _visits(door_campaign)
        .filter(outcome__in=CONTACT_OUTCOMES)
        .values("turf")
        .annotate(n=Count("door", distinct=True))
        .values_list("turf", "n")
    )
    return [
        (turf, Line(str(turf), turf.door_count, knocked.get(turf.pk, 0), contacts.get(turf.pk, 0)))
        for turf in door_campaign.turfs.prefetch_related("assignments__canvasser")
    ]


def by_bureau(door_campaign: DoorCampaign) -> list[Line]:
    doors = dict(
        Door.objects.filter(building__door_campaign=door_campaign)
        .values("building__bureau_code")
        .annotate(n=Count("pk"))
        .values_list("building__bureau_code", "n")
    )
    knocked = dict(
        _visits(door_campaign)
        .values("door__building__bureau_code")
        .annotate(n=Count("door", distinct=True))
        .values_list("door__building__bureau_code", "n")
    )
    contacts = dict(
        _visits(door_campaign)
        .filter(outcome__in=CONTACT_OUTCOMES)
        .values("door__building__bureau_code")
        .annotate(n=Count("door", distinct=True))
        .values_list("door__building__bureau_code", "n")
    )
    return [
        Line(code or "–", n, knocked.get(code, 0), contacts.get(code, 0))
        for code, n in sorted(doors.items())
    ]


def map_data(door_campaign: DoorCampaign) -> dict[str, Any]:
    """Buildings with their turf and progress, for the planning map."""
    visited = set(_visits(door_campaign).values_list("door_id", flat=True))
    buildings: dict[int, dict[str, Any]] = {}
    for door in Door.objects.filter(building__door_campaign=door_campaign).select_related(
        "building"
    ):
        b = door.building
        entry = buildings.setdefault(
            b.pk,
            {
                "id": b.pk,
                "label": b.label,
                "lat": b.latitude,
                "lon": b.longitude,
                "turf": door.turf_id,
                "doors": 0,
                "visited": 0,
            },
        )
        entry["doors"] += 1
        entry["visited"] += door.pk in visited
    turfs = [
        {"id": t.pk, "number": t.number, "doors": t.door_count} for t in door_campaign.turfs.all()
    ]
    return {"buildings": list(buildings.values()), "turfs": turfs}


def open_flags(door_campaign: DoorCampaign) -> Any:
    return (
        QualityFlag.objects.filter(door_campaign=door_campaign)
        .select_related("canvasser", "turf")
        .annotate(results=Count("visits"))
        .order_by("status", "-created_at")
    )
