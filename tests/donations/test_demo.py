"""The demo's donations: test-mode gifts through the webhook's services, receipts numbered,
idempotent."""

from __future__ import annotations

from io import StringIO

import pytest

from donations import demo
from donations.models import Donation, Receipt, WebhookEvent

pytestmark = pytest.mark.django_db


def test_demo_gifts_and_receipts_are_idempotent(clone):
    campaign = clone().campaign
    demo.load(stdout=StringIO())
    gifts = Donation.objects.filter(campaign=campaign)
    assert gifts.count() == len(demo.DONORS) + 1
    assert gifts.filter(method="cheque").count() == 1
    assert sorted(
        Receipt.objects.filter(campaign=campaign).values_list("number", flat=True)
    ) == list(range(1000, 1000 + len(demo.DONORS) + 1))
    assert not WebhookEvent.objects.exists()  # no network, no event: the services directly
    counts = (Donation.objects.count(), Receipt.objects.count())
    demo.load(stdout=StringIO())
    assert (Donation.objects.count(), Receipt.objects.count()) == counts
