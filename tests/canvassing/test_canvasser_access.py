"""A canvasser sees only their assigned, live turfs, the doors in them and, of the people there,
only what the door card needs. Everything else answers 404."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from canvassing import services
from canvassing.models import Assignment, DoorCampaign, Visit
from canvassing.selectors import DOOR_HISTORY_LIMIT

pytestmark = pytest.mark.django_db


def test_my_turfs_lists_only_mine(make_field, make_canvasser, login):
    field = make_field()
    mine, other = field.turfs[0], field.turfs[1]
    canvasser = make_canvasser(field.campaign, mine)
    make_canvasser(field.campaign, other)
    page = login(canvasser).get(reverse("terrain_home"))
    assert page.status_code == 200
    body = page.content.decode()
    assert f'data-turf="{mine.pk}"' in body
    assert f'data-turf="{other.pk}"' not in body


def test_other_expired_revoked_and_foreign_turfs_are_404(
    make_field, make_canvasser, login, make_campaign
):
    field = make_field()
    mine, other, expired = field.turfs[0], field.turfs[1], field.turfs[2]
    canvasser = make_canvasser(field.campaign, mine, expired)
    Assignment.objects.filter(turf=expired).update(expires_at=timezone.now() - dt.timedelta(1))
    client = login(canvasser)
    assert client.get(reverse("terrain_turf", args=[mine.pk])).status_code == 200
    assert client.get(reverse("terrain_turf_data", args=[mine.pk])).status_code == 200
    for turf in (other, expired):
        assert client.get(reverse("terrain_turf", args=[turf.pk])).status_code == 404
        assert client.get(reverse("terrain_turf_data", args=[turf.pk])).status_code == 404
    services.revoke_assignment(Assignment.objects.get(turf=mine), actor=field.manager)
    assert client.get(reverse("terrain_turf_data", args=[mine.pk])).status_code == 404


def test_a_role_removed_from_the_campaign_closes_its_turfs(make_field, make_canvasser, login):
    from cocarde.tenancy.models import StaffRole

    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    StaffRole.objects.filter(user=canvasser).delete()
    assert login(canvasser).get(reverse("terrain_turf_data", args=[turf.pk])).status_code == 404


def test_the_turf_data_carries_only_what_the_door_card_needs(make_field, make_canvasser, login):
    from crm.services.people import add_email, add_phone, update_person

    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    door = turf.doors.first()
    person = door.people.first()
    add_email(person, "secret@example.org")
    add_phone(person, "06 12 34 56 78")
    update_person(person, actor=None, support_level=1)
    data = login(canvasser).get(reverse("terrain_turf_data", args=[turf.pk])).json()
    text = str(data)
    assert "secret@example.org" not in text and "612345678" not in text
    doors = [d for stop in data["stops"] for d in stop["doors"]]
    assert {d["id"] for d in doors} == set(turf.doors.values_list("pk", flat=True))
    people = [p for d in doors for p in d["people"]]
    assert people and all(set(p) == {"id", "name"} for p in people)
    assert "support_level" not in text and "birth" not in text
    # Stops come in walking order.
    positions = [turf.doors.get(pk=d["id"]).route_position for d in doors]
    assert positions == sorted(positions)


def test_each_door_carries_its_last_visits_of_this_campaign_without_opinions(
    make_field, make_canvasser, login
):
    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    door, quiet = turf.doors.order_by("route_position")[:2]
    now = timezone.now()

    def knock(hours_ago, outcome="not_home", status=Visit.Status.APPLIED, door_campaign=None):
        return Visit.objects.create(
            client_uuid=uuid.uuid4(),
            door_campaign=door_campaign or field.door_campaign,
            turf=turf,
            door=door,
            canvasser=canvasser,
            outcome=outcome,
            support_level=4,
            answers={"priority": "SECRET-ANSWER"},
            note="SECRET-NOTE",
            visited_at=now - dt.timedelta(hours=hours_ago),
            status=status,
        )

    for hours in range(2, 9):  # seven visits of this campaign, the oldest two left out
        knock(hours, status=Visit.Status.SUPERSEDED if hours == 3 else Visit.Status.APPLIED)
    knock(1, outcome="opened", status=Visit.Status.ROLLED_BACK)
    other = DoorCampaign.objects.create(campaign=field.campaign, name="Autre tournée")
    knock(0.5, outcome="refused", door_campaign=other)

    data = login(canvasser).get(reverse("terrain_turf_data", args=[turf.pk])).json()
    doors = {d["id"]: d for stop in data["stops"] for d in stop["doors"]}
    visits = doors[door.pk]["visits"]
    assert len(visits) == DOOR_HISTORY_LIMIT == 5
    assert all(set(v) == {"at", "outcome", "label", "by"} for v in visits)
    expected = Visit.objects.filter(
        door=door,
        door_campaign=field.door_campaign,
        status__in=[Visit.Status.APPLIED, Visit.Status.SUPERSEDED],
    ).order_by("-visited_at")[:5]
    assert [v["at"] for v in visits] == [e.visited_at.isoformat() for e in expected]
    assert all(v["outcome"] == "not_home" and v["label"] for v in visits)
    assert {v["by"] for v in visits} == {"Camille"}
    assert doors[quiet.pk]["visits"] == []
    text = str(data)
    assert "SECRET" not in text and "Terrain" not in text and "support_level" not in text


def test_anonymous_people_are_sent_to_sign_in(client, make_field):
    field = make_field()
    response = client.get(reverse("terrain_turf", args=[field.turfs[0].pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert client.post(
        reverse("terrain_sync"), "{}", content_type="application/json"
    ).status_code in (
        401,
        403,
    )


def test_staff_pages_stay_closed_to_canvassers(make_field, make_canvasser, login):
    field = make_field()
    canvasser = make_canvasser(field.campaign, field.turfs[0])
    response = login(canvasser).get("/admin/")
    assert response.status_code in (302, 403)
