"""Quality flags on implausible results, their review and rollback."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from canvassing import quality, sync
from canvassing.models import Door, QualityFlag, Visit
from crm.models import Action, ActionType, Consent, Note
from tests.fixtures.canvassing import CONSENT_TEXT

pytestmark = pytest.mark.django_db


def record(door, at, outcome="not_home", **extra):
    return {
        "uuid": str(uuid.uuid4()),
        "kind": "visit",
        "door": door.pk,
        "outcome": outcome,
        "at": at.isoformat(),
    } | extra


def walk(turf, start, seconds, outcome="not_home"):
    """One result per door in route order, `seconds` apart."""
    doors = list(turf.doors.order_by("route_position"))
    return [
        record(d, start + dt.timedelta(seconds=i * seconds), outcome) for i, d in enumerate(doors)
    ]


def test_a_plausible_outing_raises_no_flag(make_field, make_canvasser):
    field = make_field(doors_per_turf=42)
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    records = walk(turf, timezone.now() - dt.timedelta(hours=3), seconds=150)
    for i, r in enumerate(records):
        r["outcome"] = "opened" if i % 4 == 0 else "not_home"
    sync.apply_records(canvasser, records)
    assert not QualityFlag.objects.exists()
    assert not Visit.objects.filter(flagged=True).exists()


def test_a_turf_done_in_minutes_with_doors_seconds_apart_is_flagged(make_field, make_canvasser):
    field = make_field(doors_per_turf=42)
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    sync.apply_records(canvasser, walk(turf, timezone.now() - dt.timedelta(minutes=10), seconds=5))
    kinds = set(QualityFlag.objects.values_list("kind", flat=True))
    assert kinds == {QualityFlag.Kind.SECONDS_APART, QualityFlag.Kind.TURF_IN_MINUTES}
    flag = QualityFlag.objects.get(kind=QualityFlag.Kind.TURF_IN_MINUTES)
    assert flag.turf == turf and flag.canvasser == canvasser
    assert flag.visits.count() == 42


def test_an_implausible_contact_rate_is_flagged(make_field, make_canvasser):
    field = make_field(doors_per_turf=42)
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    sync.apply_records(
        canvasser, walk(turf, timezone.now() - dt.timedelta(hours=3), 200, outcome="opened")
    )
    assert set(QualityFlag.objects.values_list("kind", flat=True)) == {
        QualityFlag.Kind.CONTACT_RATE
    }


def test_rolling_back_undoes_exactly_what_the_results_did(make_field, make_canvasser):
    from crm.services.people import update_person

    field = make_field(doors_per_turf=42)
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    doors = list(turf.doors.order_by("route_position"))
    person = doors[0].people.first()
    update_person(person, actor=None, support_level=4)
    start = timezone.now() - dt.timedelta(minutes=10)
    records = walk(turf, start, seconds=5)
    records[0] |= {
        "person": str(person.uuid),
        "outcome": "do_not_visit",
        "support_level": 1,
        "consent": {"channels": ["email"], "text": CONSENT_TEXT},
        "note": "inventé",
    }
    sync.apply_records(canvasser, records)
    person.refresh_from_db()
    assert person.support_level == 1
    flag = QualityFlag.objects.get(kind=QualityFlag.Kind.TURF_IN_MINUTES)
    assert quality.rollback_flag(flag, actor=field.manager) == 42
    person.refresh_from_db()
    assert person.support_level == 4
    assert not Action.objects.filter(type=ActionType.DOOR_KNOCKED).exists()
    assert not Note.objects.filter(person=person).exists()
    consent = Consent.objects.get(person=person)  # kept as a trace, no longer valid
    assert consent.withdrawn_at is not None and not consent.is_active
    assert not Door.objects.get(pk=doors[0].pk).do_not_visit
    assert set(Visit.objects.values_list("status", flat=True)) == {Visit.Status.ROLLED_BACK}
    flag.refresh_from_db()
    assert flag.status == QualityFlag.Status.ROLLED_BACK and flag.reviewed_by == field.manager


def test_accepted_results_stay_and_are_not_flagged_again(make_field, make_canvasser):
    field = make_field(doors_per_turf=42)
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    sync.apply_records(canvasser, walk(turf, timezone.now() - dt.timedelta(minutes=10), seconds=5))
    for flag in QualityFlag.objects.all():
        quality.accept_flag(flag, actor=field.manager)
    quality.check_canvasser(field.door_campaign, canvasser)
    assert set(QualityFlag.objects.values_list("status", flat=True)) == {"accepted"}
    assert Action.objects.filter(type=ActionType.DOOR_KNOCKED).count() == 42
