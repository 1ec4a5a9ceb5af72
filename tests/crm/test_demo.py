from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from crm.models import CampaignAttachment, Consent, DuplicateCandidate, Person, Segment

pytestmark = pytest.mark.django_db


def test_demo_holds_a_few_hundred_people_across_the_demo_campaigns():
    call_command("demo", stdout=StringIO())
    # The sample roll (2,481 voters) and members file (90 more people), plus 8 look-alikes.
    assert Person.objects.count() == 2571 + 8
    per_campaign = CampaignAttachment.objects.values("campaign").distinct().count()
    assert per_campaign >= 2
    assert Consent.objects.exists() and DuplicateCandidate.objects.exists()


def test_demo_is_idempotent_and_its_people_come_from_the_imports():
    from crm.models import ImportRun

    call_command("demo", stdout=StringIO())
    call_command("demo", stdout=StringIO())
    assert Person.objects.count() == 2571 + 8
    assert ImportRun.objects.filter(status="done").count() == 4
    assert Person.objects.filter(member_status="member").count() == 260

    # Saved segments and a frozen list per demo campaign, counted; loading again adds nothing.
    segments = Segment.objects.filter(kind=Segment.Kind.DYNAMIC)
    assert segments.count() >= 4 and all(s.last_count is not None for s in segments)
    frozen = Segment.objects.filter(kind=Segment.Kind.STATIC).first()
    assert frozen is not None and frozen.members.count() == frozen.last_count > 0
    before = Segment.objects.count()
    call_command("demo", stdout=StringIO())
    assert Segment.objects.count() == before
