from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from crm.models import CampaignAttachment, Consent, DuplicateCandidate, Person

pytestmark = pytest.mark.django_db


def test_demo_holds_a_few_hundred_people_across_the_demo_campaigns():
    call_command("demo", stdout=StringIO())
    assert 250 <= Person.objects.count() <= 1000
    per_campaign = CampaignAttachment.objects.values("campaign").distinct().count()
    assert per_campaign >= 2
    assert Consent.objects.exists() and DuplicateCandidate.objects.exists()
