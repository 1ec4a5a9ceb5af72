"""What a canvasser may see: the turfs assigned to them (live, not expired, not revoked, on a
campaign where they hold Capability.CANVASS), the doors of those turfs, and of the people at
those doors only what the door card needs. Anything else answers 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from canvassing.models import Assignment, Door, DoorCampaign, Turf, Visit
from cocarde.tenancy.permissions import Capability, campaign_ids_for, scope

# How many earlier visits the door card lists, newest first.
DOOR_HISTORY_LIMIT = 5

# After an assignment expires, results recorded before the expiry may still arrive (a phone
# offline for the weekend): they are accepted for this long.
LATE_SYNC_GRACE = dt.timedelta(hours=48)


def live_assignments(user: Any, *, at: dt.datetime | None = None) -> QuerySet[Assignment]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Assignment.objects.none()
    now = at or timezone.now()
    assignments = Assignment.objects.filter(
        canvasser=user, revoked_at__isnull=True, expires_at__gt=now
    )
    ids = campaign_ids_for(user, Capability.CANVASS)
    if ids is not None:
        assignments = assignments.filter(turf__door_campaign__campaign_id__in=ids)
    return assignments


def turfs_for(user: Any) -> QuerySet[Turf]:
    live = live_assignments(user).filter(turf=OuterRef("pk"))
    return (
        Turf.objects.filter(Exists(live))
        .select_related("door_campaign", "door_campaign__campaign")
        .order_by("door_campaign__name", "number")
    )


def turf_for(user: Any, pk: Any) -> Turf:
    try:
        return turfs_for(user).get(pk=int(pk))
    except (Turf.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def assignment_covering(user: Any, turf_id: int, visited_at: dt.datetime) -> Assignment | None:
    """The assignment under which a result recorded at `visited_at` is accepted now: a live
    one, or one that was live then and expired less than LATE_SYNC_GRACE ago."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    now = timezone.now()
    assignments = Assignment.objects.filter(
        canvasser=user, turf_id=turf_id, revoked_at__isnull=True
    ).select_related("turf__door_campaign")
    ids = campaign_ids_for(user, Capability.CANVASS)
    if ids is not None:
        assignments = assignments.filter(turf__door_campaign__campaign_id__in=ids)
    live = assignments.filter(expires_at__gt=now).first()
    if live is not None:
        return live
    return assignments.filter(
        expires_at__gte=visited_at, expires_at__gt=now - LATE_SYNC_GRACE
    ).first()


def door_campaigns_for(user: Any) -> QuerySet[DoorCampaign]:
    """Staff side: the door-to-door campaigns the user may plan."""
    return scope(
        DoorCampaign.objects.select_related("campaign"), user, Capability.PLAN_FIELD
    ).order_by("-created_at")


def door_campaign_for(user: Any, pk: Any) -> DoorCampaign:
    try:
        return door_campaigns_for(user).get(pk=int(pk))
    except (DoorCampaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _person_card(person: Any) -> dict[str, Any]:
    # Only what a canvasser needs at the door: no contact details, no opinions, no birth date.
    return {"id": str(person.uuid), "name": person.display_name}


def turf_payload(turf: Turf) -> dict[str, Any]:
    """Everything the canvasser app stores for a turf to work offline."""
    door_campaign = turf.door_campaign
    doors = list(
        turf.doors.select_related("building")
        .prefetch_related("residents__person")
        .order_by("route_position")
    )
    last_visits: dict[int, Visit] = {}
    history: dict[int, list[dict[str, Any]]] = {}
    # Visits of this door campaign only (applied, or kept in history behind a later one; never
    # rolled back), newest first. Only the date, the outcome and the canvasser's first name
    # leave the server: no answers, support levels or notes.
    visits = (
        Visit.objects.filter(
            door__in=doors,
            door_campaign=door_campaign,
            status__in=[Visit.Status.APPLIED, Visit.Status.SUPERSEDED],
        )
        .select_related("canvasser")
        .only("door_id", "outcome", "visited_at", "status", "canvasser__first_name")
        .order_by("-visited_at", "-id")
    )
    for visit in visits:
        if visit.status == Visit.Status.APPLIED:
            last_visits.setdefault(visit.door_id, visit)
        entries = history.setdefault(visit.door_id, [])
        if len(entries) < DOOR_HISTORY_LIMIT:
            entries.append(
                {
                    "at": visit.visited_at.isoformat(),
                    "outcome": visit.outcome,
                    "label": str(visit.get_outcome_display()),
                    "by": visit.canvasser.first_name if visit.canvasser else "",
                }
            )
    stops: list[dict[str, Any]] = []
    for door in doors:
        b = door.building
        if not stops or stops[-1]["id"] != b.pk:
            stops.append(
                {
                    "id": b.pk,
                    "label": b.label,
                    "kind": b.kind,
                    "lat": b.latitude,
                    "lon": b.longitude,
                    "access": b.access_notes,
                    "doors": [],
                }
            )
        last = last_visits.get(door.pk)
        stops[-1]["doors"].append(
            {
                "id": door.pk,
                "entrance": door.entrance,
                "floor": door.floor,
                "door": door.door,
                "do_not_visit": door.do_not_visit,
                "version": door.version,
                "people": [_person_card(r.person) for r in door.residents.all()],
                "last_visit": (
                    {"outcome": last.outcome, "at": last.visited_at.isoformat()} if last else None
                ),
                "visits": history.get(door.pk, []),
            }
        )
    return {
        "turf": {
            "id": turf.pk,
            "name": str(turf),
            "doors": turf.door_count,
            "minutes": round(turf.estimated_minutes),
        },
        "campaign": {
            "id": door_campaign.pk,
            "name": door_campaign.name,
            "instructions": door_campaign.instructions,
            "survey": door_campaign.survey,
            "consent_text": door_campaign.consent_text,
        },
        "stops": stops,
    }


def doors_visible_to(user: Any) -> QuerySet[Door]:
    return Door.objects.filter(Q(turf__in=turfs_for(user).values("pk")))
