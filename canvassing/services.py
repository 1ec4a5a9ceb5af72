"""Planning door-to-door campaigns: doors from the target, turfs, walk order, assignments.

Every state change takes the acting user as keyword-only `actor`, runs in a transaction and
writes an audit event (ids and counts, never personal data).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from canvassing import routing
from canvassing.editing import update_settings
from canvassing.models import (
    Assignment,
    Building,
    Door,
    DoorCampaign,
    Resident,
    Turf,
)

# The survey rules moved to canvassing/surveys.py; kept importable here for older callers.
from canvassing.surveys import answer_value, clean_answers, validate_survey  # noqa: F401
from cocarde.audit.services import record_event
from cocarde.tenancy.models import StaffRole
from cocarde.tenancy.permissions import Capability, can
from crm.models import Person
from crm.normalize import address_key
from crm.segments.compiler import universe
from crm.segments.geometry import inside_polygon
from crm.segments.services import build_context, people_in

# --- campaigns and doors ---------------------------------------------------------------------


@transaction.atomic
def create_door_campaign(
    *, actor: Any, campaign: Any, name: str, bureaux: Iterable[Any] = (), **fields: Any
) -> DoorCampaign:
    if actor is not None and not can(actor, Capability.PLAN_FIELD, campaign):
        raise PermissionError("plan_field")
    fields["survey"] = validate_survey(fields.get("survey", []))
    door_campaign = DoorCampaign.objects.create(
        campaign=campaign, name=name, created_by=_user(actor), **fields
    )
    if bureaux:
        door_campaign.bureaux.set(bureaux)
    record_event("canvassing.campaign.create", actor=actor, campaign=campaign, target=door_campaign)
    return door_campaign


# What decides which doors a campaign has: changing one of them calls for a new door search.
TARGET_FIELDS = ("target_kind", "segment", "area")


@transaction.atomic
def update_door_campaign(
    door_campaign: DoorCampaign,
    *,
    actor: Any,
    bureaux: Iterable[Any] | None = None,
    **fields: Any,
) -> list[str]:
    """Change a campaign's settings (never its owning campaign); the names of the changed
    fields, `bureaux` included. Doors already found stay: the caller decides on a new search."""
    return update_settings(
        door_campaign,
        actor=actor,
        action="canvassing.campaign.update",
        related=None if bureaux is None else ("bureaux", bureaux),
        **fields,
    )


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def target_people(door_campaign: DoorCampaign) -> QuerySet[Person]:
    """The people the campaign targets, with coordinates (the ones that can be walked to)."""
    kind = door_campaign.target_kind
    if kind == DoorCampaign.TargetKind.SEGMENT:
        if door_campaign.segment is None:
            return Person.objects.none()
        people = people_in(door_campaign.segment)
    else:
        people = universe(build_context(door_campaign.campaign))
        if kind == DoorCampaign.TargetKind.BUREAUX:
            condition = Q(pk__in=[])
            for code in door_campaign.bureaux.values_list("code", flat=True):
                commune, _sep, number = code.partition("_")
                condition |= Q(commune_code=commune, polling_station_code=number)
            people = people.filter(condition)
        elif kind == DoorCampaign.TargetKind.AREA:
            if len(door_campaign.area or []) < 3:
                return Person.objects.none()
            people = people.filter(inside_polygon(door_campaign.area))
    return people.filter(latitude__isnull=False, longitude__isnull=False)


def _number(value: str) -> int | None:
    digits = re.match(r"\d+", value or "")
    return int(digits.group()) if digits else None


@transaction.atomic
def build_doors(door_campaign: DoorCampaign, *, actor: Any) -> int:
    """Group the targeted people by address into buildings and doors. Idempotent: people
    already placed stay where they are (with what canvassers completed in the field)."""
    placed = set(
        Resident.objects.filter(door__building__door_campaign=door_campaign).values_list(
            "person_id", flat=True
        )
    )
    buildings = {b.address_key: b for b in door_campaign.buildings.all()}
    created_doors = 0
    people = target_people(door_campaign).only(
        "pk",
        "street_number",
        "street_repetition",
        "street_name",
        "address_complement",
        "postcode",
        "commune_name",
        "latitude",
        "longitude",
        "commune_code",
        "polling_station_code",
    )
    households: dict[tuple[str, str], list[Person]] = defaultdict(list)
    for person in people.order_by("pk").iterator(chunk_size=2000):
        if person.pk in placed:
            continue
        key = (
            address_key(
                person.street_number,
                person.street_repetition,
                person.street_name,
                "",
                person.postcode,
            )
            or f"{person.latitude:.5f},{person.longitude:.5f}"
        )
        households[(key, person.address_complement.strip().lower())].append(person)
    for (key, complement), members in households.items():
        first = members[0]
        building = buildings.get(key)
        if building is None:
            bureau = (
                f"{first.commune_code}_{first.polling_station_code}"
                if first.polling_station_code
                else ""
            )
            building = Building.objects.create(
                door_campaign=door_campaign,
                address_key=key,
                street_number=first.street_number,
                street_repetition=first.street_repetition,
                street_name=first.street_name,
                postcode=first.postcode,
                commune_name=first.commune_name,
                latitude=first.latitude or 0.0,
                longitude=first.longitude or 0.0,
                bureau_code=bureau,
            )
            buildings[key] = building
        door = building.doors.filter(door=complement[:40]).first() if complement else None
        if door is None and not complement:
            door = building.doors.filter(door="", floor="", entrance="").first()
        if door is None:
            door = Door.objects.create(building=building, door=first.address_complement[:40])
            created_doors += 1
        Resident.objects.bulk_create([Resident(door=door, person=p) for p in members])
    for building in buildings.values():
        kind = Building.Kind.BUILDING if building.doors.count() > 1 else Building.Kind.HOUSE
        if building.kind != kind:
            Building.objects.filter(pk=building.pk).update(kind=kind)
    record_event(
        "canvassing.doors.build",
        actor=actor,
        campaign=door_campaign.campaign,
        target=door_campaign,
        data={"doors": created_doors},
    )
    return created_doors


# --- turfs ----------------------------------------------------------------------------------


def _door_items(
    doors: Sequence[Door], projection: routing.Projection, *, by_minutes: bool, per_door: float
) -> list[routing.DoorItem]:
    items = []
    positions: dict[int, tuple[float, float]] = {}
    counts: dict[int, int] = defaultdict(int)
    for door in doors:
        b = door.building
        positions[b.pk] = projection.xy(b.latitude, b.longitude)
        counts[b.pk] += 1
    walk: dict[int, float] = {}
    if by_minutes:
        ids = list(positions)
        nearest = routing.nearest_distances([positions[i] for i in ids])
        walk = {i: d / routing.WALKING_METRES_PER_MINUTE for i, d in zip(ids, nearest, strict=True)}
    for door in doors:
        b = door.building
        x, y = positions[b.pk]
        weight = 1.0
        if by_minutes:
            weight = per_door + walk[b.pk] / counts[b.pk]
        items.append(
            routing.DoorItem(
                key=door.pk,
                building=b.pk,
                x=x,
                y=y,
                rank=routing.door_rank(door.entrance, door.floor, door.door),
                group=b.bureau_code,
                weight=weight,
            )
        )
    return items


@dataclass
class CutResult:
    turfs: list[Turf]
    doors: int


@transaction.atomic
def cut_turfs(
    door_campaign: DoorCampaign,
    *,
    actor: Any,
    doors_per_turf: int | None = None,
    hours_per_turf: float | None = None,
    respect_bureaux: bool = False,
) -> CutResult:
    """Replace the campaign's unassigned turfs by balanced, compact ones in walking order.

    Turfs already assigned (with visits or a live assignment) are kept as they are; the doors
    they hold are not cut again."""
    if not doors_per_turf and not hours_per_turf:
        raise ValidationError(_("Give a number of doors or of hours per turf."))
    now = timezone.now()
    kept = set(
        Turf.objects.filter(door_campaign=door_campaign)
        .filter(Q(visits__isnull=False) | Q(assignments__expires_at__gt=now))
        .values_list("pk", flat=True)
    )
    Door.objects.filter(building__door_campaign=door_campaign).exclude(turf_id__in=kept).update(
        turf=None
    )
    Turf.objects.filter(door_campaign=door_campaign).exclude(pk__in=kept).delete()
    doors = list(
        Door.objects.filter(
            building__door_campaign=door_campaign, turf__isnull=True, do_not_visit=False
        )
        .select_related("building")
        .order_by("pk")
    )
    projection = routing.Projection.around(
        [(d.building.latitude, d.building.longitude) for d in doors]
    )
    by_minutes = bool(hours_per_turf)
    items = _door_items(
        doors, projection, by_minutes=by_minutes, per_door=door_campaign.minutes_per_door
    )
    target = hours_per_turf * 60 if hours_per_turf else float(doors_per_turf or 0)
    groups = routing.cut_turfs(items, target=target, by_group=respect_bureaux)
    next_number = (
        Turf.objects.filter(door_campaign=door_campaign).aggregate(n=Max("number"))["n"] or 0
    ) + 1
    by_pk = {d.pk: d for d in doors}
    turfs = []
    for offset, group in enumerate(groups):
        turf = Turf.objects.create(door_campaign=door_campaign, number=next_number + offset)
        Door.objects.filter(pk__in=[item.key for item in group]).update(turf=turf)
        order_turf(turf, doors=[by_pk[item.key] for item in group], projection=projection)
        turfs.append(turf)
    record_event(
        "canvassing.turfs.cut",
        actor=actor,
        campaign=door_campaign.campaign,
        target=door_campaign,
        data={"turfs": len(turfs), "doors": len(doors), "respect_bureaux": respect_bureaux},
    )
    return CutResult(turfs=turfs, doors=len(doors))


def order_turf(
    turf: Turf,
    *,
    doors: Sequence[Door] | None = None,
    projection: routing.Projection | None = None,
) -> float:
    """Put the turf's doors in walking order (buildings as stops); returns metres walked."""
    if doors is None:
        doors = list(turf.doors.select_related("building"))
    by_building: dict[int, list[Door]] = defaultdict(list)
    buildings: dict[int, Building] = {}
    for door in doors:
        by_building[door.building_id].append(door)
        buildings[door.building_id] = door.building
    if projection is None:
        projection = routing.Projection.around(
            [(b.latitude, b.longitude) for b in buildings.values()]
        )
    ids = list(buildings)
    stops = []
    for key in ids:
        b = buildings[key]
        x, y = projection.xy(b.latitude, b.longitude)
        stops.append(
            routing.Stop(
                key=key,
                x=x,
                y=y,
                doors=len(by_building[key]),
                street=b.street_name.strip().lower(),
                number=_number(b.street_number) if b.kind == Building.Kind.HOUSE else None,
            )
        )
    order = routing.order_stops(stops)
    metres = routing.path_length(order, routing.cost_matrix(stops, crossing=0.0))
    position = 0
    updates = []
    for index in order:
        members = sorted(
            by_building[ids[index]],
            key=lambda d: (routing.door_rank(d.entrance, d.floor, d.door), d.pk),
        )
        for door in members:
            door.route_position = position
            door.turf = turf
            position += 1
            updates.append(door)
    Door.objects.bulk_update(updates, ["route_position", "turf"])
    door_count = len(updates)
    minutes = door_count * turf.door_campaign.minutes_per_door + metres / (
        routing.WALKING_METRES_PER_MINUTE
    )
    bureaux = {b.bureau_code for b in buildings.values()}
    Turf.objects.filter(pk=turf.pk).update(
        door_count=door_count,
        route_metres=round(metres, 1),
        estimated_minutes=round(minutes, 1),
        bureau_code=bureaux.pop() if len(bureaux) == 1 else "",
    )
    turf.door_count, turf.route_metres, turf.estimated_minutes = door_count, metres, minutes
    return metres


@transaction.atomic
def split_turf(turf: Turf, *, actor: Any) -> Turf:
    """Cut a turf in two compact halves; the second half becomes a new turf."""
    doors = list(turf.doors.select_related("building"))
    if len(doors) < 2:
        raise ValidationError(_("A turf needs at least two doors to be split."))
    projection = routing.Projection.around(
        [(d.building.latitude, d.building.longitude) for d in doors]
    )
    items = _door_items(doors, projection, by_minutes=False, per_door=1.0)
    halves = routing.cut_turfs(items, target=len(items) / 2)
    if len(halves) < 2:
        halves = [items[: len(items) // 2], items[len(items) // 2 :]]
    number = (
        Turf.objects.filter(door_campaign=turf.door_campaign).aggregate(n=Max("number"))["n"] or 0
    ) + 1
    new = Turf.objects.create(door_campaign=turf.door_campaign, number=number)
    by_pk = {d.pk: d for d in doors}
    order_turf(turf, doors=[by_pk[i.key] for i in halves[0]])
    order_turf(new, doors=[by_pk[i.key] for i in halves[1]])
    record_event(
        "canvassing.turf.split",
        actor=actor,
        campaign=turf.door_campaign.campaign,
        target=turf,
        data={"new_turf": new.pk},
    )
    return new


@transaction.atomic
def merge_turfs(turf: Turf, other: Turf, *, actor: Any) -> Turf:
    """Move the other turf's doors into this one, reorder, and delete the other turf."""
    if other.door_campaign_id != turf.door_campaign_id or other.pk == turf.pk:
        raise ValidationError(_("Merge two different turfs of the same campaign."))
    if other.visits.exists():
        raise ValidationError(_("This turf already has results: it cannot be merged away."))
    Door.objects.filter(turf=other).update(turf=turf)
    Assignment.objects.filter(turf=other).delete()
    other.delete()
    order_turf(turf)
    record_event(
        "canvassing.turf.merge",
        actor=actor,
        campaign=turf.door_campaign.campaign,
        target=turf,
        data={"merged": other.pk},
    )
    return turf


@transaction.atomic
def move_buildings(building_ids: Sequence[int], to: Turf, *, actor: Any) -> int:
    """Redraw: give these buildings' doors to another turf, and reorder both sides."""
    doors = Door.objects.filter(
        building_id__in=list(building_ids), building__door_campaign=to.door_campaign
    )
    sources = set(doors.exclude(turf=to).values_list("turf_id", flat=True)) - {None}
    moved = doors.exclude(turf=to).update(turf=to)
    order_turf(to)
    for turf in Turf.objects.filter(pk__in=sources):
        order_turf(turf)
    record_event(
        "canvassing.turf.redraw",
        actor=actor,
        campaign=to.door_campaign.campaign,
        target=to,
        data={"doors": moved},
    )
    return moved


# --- assignments ----------------------------------------------------------------------------


def canvassers_of(campaign: Any) -> QuerySet[Any]:
    from django.contrib.auth import get_user_model

    roles = [StaffRole.Role.CANVASSER, StaffRole.Role.STAFF, StaffRole.Role.MANAGER]
    return (
        get_user_model()
        .objects.filter(staff_roles__campaign=campaign, staff_roles__role__in=roles, is_active=True)
        .distinct()
        .order_by("email")
    )


@transaction.atomic
def assign_turf(
    turf: Turf, canvassers: Sequence[Any], *, actor: Any, expires_at: dt.datetime
) -> list[Assignment]:
    """Give the turf to one canvasser or a pair until `expires_at`."""
    campaign = turf.door_campaign.campaign
    if expires_at <= timezone.now():
        raise ValidationError(_("The expiry must be in the future."))
    assignments = []
    for canvasser in canvassers:
        if not can(canvasser, Capability.CANVASS, campaign):
            raise ValidationError(
                _("%(user)s is not a canvasser of this campaign.") % {"user": canvasser}
            )
        assignments.append(
            Assignment.objects.create(
                turf=turf, canvasser=canvasser, expires_at=expires_at, assigned_by=_user(actor)
            )
        )
    record_event(
        "canvassing.turf.assign",
        actor=actor,
        campaign=campaign,
        target=turf,
        data={"canvassers": [c.pk for c in canvassers], "expires_at": expires_at.isoformat()},
    )
    return assignments


@transaction.atomic
def revoke_assignment(assignment: Assignment, *, actor: Any) -> None:
    Assignment.objects.filter(pk=assignment.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    record_event(
        "canvassing.turf.revoke",
        actor=actor,
        campaign=assignment.turf.door_campaign.campaign,
        target=assignment.turf,
        data={"canvasser": assignment.canvasser_id},
    )
