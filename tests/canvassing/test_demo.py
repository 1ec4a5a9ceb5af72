"""The demo has a door-to-door campaign on the sample commune with turfs and some results."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from canvassing.models import Assignment, DoorCampaign, PhoneTarget, QualityFlag, Turf, Visit
from crm.models import Action, ActionType

pytestmark = pytest.mark.django_db


def test_demo_field_campaign_with_turfs_and_results_idempotent():
    call_command("demo", stdout=StringIO())
    dc = DoorCampaign.objects.get()
    assert "41998" in dc.campaign.commune_codes
    turfs = Turf.objects.filter(door_campaign=dc)
    assert turfs.count() >= 2
    assert all(t.door_count > 0 and t.bureau_code for t in turfs)
    assert Assignment.objects.filter(turf__door_campaign=dc).count() == 2
    visits = Visit.objects.filter(door_campaign=dc).count()
    assert visits > 0
    assert Action.objects.filter(type=ActionType.DOOR_KNOCKED, campaign=dc.campaign).exists()
    assert QualityFlag.objects.filter(door_campaign=dc).exists()  # the implausible outing
    assert PhoneTarget.objects.exists()
    counts = (Turf.objects.count(), Visit.objects.count(), Action.objects.count())
    call_command("demo", stdout=StringIO())
    assert (Turf.objects.count(), Visit.objects.count(), Action.objects.count()) == counts
