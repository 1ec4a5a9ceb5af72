"""Planning screens in the Wagtail admin: create, cut, assign, split/merge, redraw, walk list PDF,
dashboards, quality review; another campaign's field data answers 404."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from canvassing import sync
from canvassing.models import Assignment, Door, DoorCampaign, QualityFlag, Turf, Visit
from cocarde.tenancy.models import StaffRole
from tests.fixtures.canvassing import CONSENT_TEXT, SURVEY, bureau, place_people

pytestmark = pytest.mark.django_db


def test_a_manager_plans_a_campaign_from_the_admin(
    make_campaign, make_staff, make_canvasser, login
):
    campaign = make_campaign(commune_codes=["41998"])
    place_people(campaign)
    manager = make_staff(campaign, StaffRole.Role.MANAGER)
    client = login(manager)
    b1 = bureau("41998_0001")
    response = client.post(
        reverse("canvassing_create"),
        {
            "campaign": campaign.pk,
            "name": "Printemps",
            "target_kind": "bureaux",
            "bureaux": [b1.pk],
            "survey": json.dumps(SURVEY),
            "consent_text": CONSENT_TEXT,
            "minutes_per_door": "1.5",
            "area": "",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    dc = DoorCampaign.objects.get(name="Printemps")
    assert Door.objects.filter(building__door_campaign=dc).count() == 28
    assert (
        client.post(reverse("canvassing_cut", args=[dc.pk]), {"doors_per_turf": 10}).status_code
        == 302
    )
    turfs = list(Turf.objects.filter(door_campaign=dc))
    assert len(turfs) == 3
    page = client.get(reverse("canvassing_detail", args=[dc.pk]))
    assert page.status_code == 200
    assert page.content.decode().count("data-turf=") == 3
    canvasser = make_canvasser(campaign)
    expires = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(
        reverse("canvassing_assign", args=[dc.pk, turfs[0].pk]),
        {"canvassers": [canvasser.pk], "expires_at": expires},
    )
    assert Assignment.objects.filter(turf=turfs[0], canvasser=canvasser).exists()
    client.post(reverse("canvassing_split", args=[dc.pk, turfs[1].pk]))
    assert Turf.objects.filter(door_campaign=dc).count() == 4
    client.post(reverse("canvassing_merge", args=[dc.pk, turfs[1].pk]), {"other": turfs[2].pk})
    assert Turf.objects.filter(door_campaign=dc).count() == 3
    data = client.get(reverse("canvassing_map_data", args=[dc.pk])).json()
    building = data["buildings"][0]
    other = next(t for t in data["turfs"] if t["id"] != building["turf"])
    moved = client.post(
        reverse("canvassing_move", args=[dc.pk]), {"turf": other["id"], "building": building["id"]}
    ).json()
    assert moved["moved"] >= 1
    assert set(Door.objects.filter(building_id=building["id"]).values_list("turf", flat=True)) == {
        other["id"]
    }


def test_the_walk_list_is_a_pdf_in_walking_order(make_field, login):
    field = make_field(doors_per_turf=14)
    turf = field.turfs[0]
    response = login(field.manager).get(
        reverse("canvassing_pdf", args=[field.door_campaign.pk, turf.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = response.content
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    doors = list(turf.doors.order_by("route_position").prefetch_related("residents"))
    positions = []
    for door in doors:
        name = door.people.first().display_name.encode("cp1252")
        assert name in body
        positions.append(body.index(name))
    assert positions == sorted(positions)


def test_dashboards_and_review(make_field, make_canvasser, login):
    field = make_field(doors_per_turf=42)
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    start = timezone.now() - dt.timedelta(minutes=5)
    records = [
        {"uuid": str(uuid.uuid4()), "kind": "visit", "door": d.pk, "outcome": "opened",
         "at": (start + dt.timedelta(seconds=3 * i)).isoformat()}
        for i, d in enumerate(turf.doors.order_by("route_position"))
    ]  # fmt: skip
    sync.apply_records(canvasser, records)
    client = login(field.manager)
    page = client.get(reverse("canvassing_detail", args=[field.door_campaign.pk])).content.decode()
    assert "Camille Terrain" in page
    assert "data-flag=" in page
    flag = QualityFlag.objects.filter(kind=QualityFlag.Kind.TURF_IN_MINUTES).get()
    client.post(
        reverse("canvassing_review", args=[field.door_campaign.pk, flag.pk]),
        {"decision": "rollback"},
    )
    assert set(Visit.objects.filter(flags=flag).values_list("status", flat=True)) == {"rolled_back"}


def test_another_campaigns_field_data_is_404(make_field, make_campaign, make_staff, login):
    field = make_field()
    dc, turf = field.door_campaign, field.turfs[0]
    outsider = login(make_staff(make_campaign(), StaffRole.Role.MANAGER))
    for url in (
        reverse("canvassing_detail", args=[dc.pk]),
        reverse("canvassing_map_data", args=[dc.pk]),
        reverse("canvassing_pdf", args=[dc.pk, turf.pk]),
    ):
        assert outsider.get(url).status_code == 404
    assert outsider.post(reverse("canvassing_split", args=[dc.pk, turf.pk])).status_code == 404
    assert (
        outsider.post(
            reverse("canvassing_move", args=[dc.pk]), {"turf": turf.pk, "building": 1}
        ).status_code
        == 404
    )
    index = outsider.get(reverse("canvassing_index")).content.decode()
    assert dc.name not in index


def test_a_treasurer_cannot_plan_field_work(make_field, make_staff, login):
    field = make_field()
    treasurer = login(make_staff(field.campaign, StaffRole.Role.TREASURER))
    assert (
        treasurer.get(reverse("canvassing_detail", args=[field.door_campaign.pk])).status_code
        == 404
    )
