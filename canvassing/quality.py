"""Plausibility checks on door results, their review, and the rollback of flagged results.

Rules (reference/canvassing.md §6: contact rate typically 10-30 %, 2-4 min between doors,
"100 doors in 2 min = fake"):
- contact rate: at least MIN_VISITS_FOR_RATE results by one canvasser, more than
  MAX_CONTACT_RATE of them with someone at the door;
- doors seconds apart: at least MIN_FAST_GAPS consecutive results at different buildings less
  than FAST_GAP apart;
- turf in minutes: at least MIN_TURF_DOORS results on one turf by one canvasser within less than
  SECONDS_PER_DOOR_FLOOR seconds per door overall.

A flag only marks results; staff accept them or roll them back (which undoes exactly what each
result changed in the CRM: the door actions, the support level if still the one it set, the
consents it gave, its notes, a "do not visit").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import pairwise
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from canvassing.models import CONTACT_OUTCOMES, Door, DoorCampaign, QualityFlag, Turf, Visit
from cocarde.audit.services import record_event
from crm.models import Action, Consent, Note, Person

MIN_VISITS_FOR_RATE = 20
MAX_CONTACT_RATE = 0.8
FAST_GAP = dt.timedelta(seconds=20)
MIN_FAST_GAPS = 3
MIN_TURF_DOORS = 10
SECONDS_PER_DOOR_FLOOR = 20


def _raise(
    door_campaign: DoorCampaign,
    canvasser: Any,
    kind: str,
    visits: list[Visit],
    detail: str,
    turf_id: int | None = None,
) -> QualityFlag:
    flag, _created = QualityFlag.objects.get_or_create(
        door_campaign=door_campaign,
        canvasser=canvasser,
        kind=kind,
        turf=Turf.objects.filter(pk=turf_id).first() if turf_id else None,
        defaults={"detail": detail[:300]},
    )
    if flag.status != QualityFlag.Status.OPEN:
        # New results after a review: only the ones not reviewed yet are flagged again.
        reviewed = set(flag.visits.values_list("pk", flat=True))
        visits = [v for v in visits if v.pk not in reviewed]
        if not visits:
            return flag
        QualityFlag.objects.filter(pk=flag.pk).update(status=QualityFlag.Status.OPEN)
    QualityFlag.objects.filter(pk=flag.pk).update(detail=detail[:300])
    flag.visits.add(*visits)
    Visit.objects.filter(pk__in=[v.pk for v in visits]).update(flagged=True)
    return flag


@transaction.atomic
def check_canvasser(door_campaign: DoorCampaign, canvasser: Any) -> list[QualityFlag]:
    visits = list(
        Visit.objects.filter(
            door_campaign=door_campaign,
            canvasser=canvasser,
            status__in=[Visit.Status.APPLIED, Visit.Status.SUPERSEDED],
        )
        .select_related("door")
        .order_by("visited_at", "pk")
    )
    flags = []
    if len(visits) >= MIN_VISITS_FOR_RATE:
        contacts = sum(1 for v in visits if v.outcome in CONTACT_OUTCOMES)
        rate = contacts / len(visits)
        if rate > MAX_CONTACT_RATE:
            flags.append(
                _raise(
                    door_campaign,
                    canvasser,
                    QualityFlag.Kind.CONTACT_RATE,
                    visits,
                    _("%(rate)s %% contacts over %(n)s doors (usually 10 to 30 %%)")
                    % {"rate": round(rate * 100), "n": len(visits)},
                )
            )
    fast: list[Visit] = []
    for a, b in pairwise(visits):
        if a.door.building_id != b.door.building_id and b.visited_at - a.visited_at < FAST_GAP:
            fast.extend(v for v in (a, b) if v not in fast)
    gaps = sum(
        1
        for a, b in pairwise(visits)
        if a.door.building_id != b.door.building_id and b.visited_at - a.visited_at < FAST_GAP
    )
    if gaps >= MIN_FAST_GAPS:
        flags.append(
            _raise(
                door_campaign,
                canvasser,
                QualityFlag.Kind.SECONDS_APART,
                fast,
                _("%(n)s doors in different buildings less than %(s)s seconds apart")
                % {"n": gaps, "s": int(FAST_GAP.total_seconds())},
            )
        )
    by_turf: dict[int, list[Visit]] = defaultdict(list)
    for visit in visits:
        if visit.turf_id:
            by_turf[visit.turf_id].append(visit)
    for turf_id, turf_visits in by_turf.items():
        doors = {v.door_id for v in turf_visits}
        if len(doors) < MIN_TURF_DOORS:
            continue
        span = (turf_visits[-1].visited_at - turf_visits[0].visited_at).total_seconds()
        if span < len(doors) * SECONDS_PER_DOOR_FLOOR:
            flags.append(
                _raise(
                    door_campaign,
                    canvasser,
                    QualityFlag.Kind.TURF_IN_MINUTES,
                    turf_visits,
                    _("%(n)s doors in %(m)s minutes") % {"n": len(doors), "m": round(span / 60, 1)},
                    turf_id=turf_id,
                )
            )
    return flags


@transaction.atomic
def accept_flag(flag: QualityFlag, *, actor: Any) -> None:
    QualityFlag.objects.filter(pk=flag.pk).update(
        status=QualityFlag.Status.ACCEPTED, reviewed_by=actor, reviewed_at=timezone.now()
    )
    record_event(
        "canvassing.flag.accept", actor=actor, campaign=flag.door_campaign.campaign, target=flag
    )


@transaction.atomic
def rollback_flag(flag: QualityFlag, *, actor: Any) -> int:
    """Undo every result the flag holds; returns how many were rolled back."""
    count = 0
    for visit in flag.visits.select_for_update().filter(
        status__in=[Visit.Status.APPLIED, Visit.Status.SUPERSEDED]
    ):
        rollback_visit(visit, actor=actor)
        count += 1
    QualityFlag.objects.filter(pk=flag.pk).update(
        status=QualityFlag.Status.ROLLED_BACK, reviewed_by=actor, reviewed_at=timezone.now()
    )
    record_event(
        "canvassing.flag.rollback",
        actor=actor,
        campaign=flag.door_campaign.campaign,
        target=flag,
        data={"visits": count},
    )
    return count


def rollback_visit(visit: Visit, *, actor: Any) -> None:
    effects = visit.effects or {}
    Action.objects.filter(pk__in=effects.get("actions", [])).delete()
    Note.objects.filter(pk__in=effects.get("notes", [])).delete()
    # A consent given through a result that did not happen is no consent: withdrawn, kept as
    # a trace (consents are proof and are never deleted).
    Consent.objects.filter(pk__in=effects.get("consents", []), withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), withdrawal_source="canvassing quality rollback"
    )
    support = effects.get("support")
    if support:
        Person.objects.filter(pk=support["person"], support_level=support["after"]).update(
            support_level=support["before"]
        )
    if effects.get("do_not_visit"):
        Door.objects.filter(pk=visit.door_id).update(do_not_visit=False)
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.ROLLED_BACK)
    record_event(
        "canvassing.visit.rollback",
        actor=actor,
        campaign=visit.door_campaign.campaign,
        target=visit,
    )
