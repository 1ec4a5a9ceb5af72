"""Reconciliation (P7): webhooks never arrived; the scheduled job lists the PaymentIntents from
Stripe and records each succeeded one exactly once, also when run twice."""

from __future__ import annotations

import pytest

from donations.models import Donation
from donations.services.stripe_api import client_for
from donations.tasks import bulk_reconcile_payments
from tests.donations.helpers import paid_intent

pytestmark = pytest.mark.django_db(transaction=True)


def test_reconciliation_repairs_missing_gifts_and_refunds_idempotently(funded_campaign, settings):
    alpha = funded_campaign("Alpha")
    bravo = funded_campaign("Bravo", election=None)
    first = paid_intent(alpha, "r1" * 16, email="one@example.org")
    paid_intent(alpha, "r2" * 16, email="two@example.org", amount_cents=2500)
    paid_intent(bravo, "r3" * 16, email="three@example.org")
    client_for(alpha).v1.refunds.create(params={"payment_intent": first["id"], "amount": 1000})
    assert not Donation.objects.exists()

    # The task the beat schedule runs.
    assert (
        settings.CELERY_BEAT_SCHEDULE["donations-reconcile"]["task"] == bulk_reconcile_payments.name
    )
    result = bulk_reconcile_payments()
    assert result[str(alpha.pk)]["repaired"] == 2 and result[str(bravo.pk)]["repaired"] == 1
    assert Donation.objects.filter(campaign=alpha).count() == 2
    assert Donation.objects.get(payment_intent_id=first["id"]).refunded_cents == 1000
    again = bulk_reconcile_payments()
    assert again[str(alpha.pk)]["repaired"] == 0 and again[str(alpha.pk)]["refunds"] == 0
    assert Donation.objects.count() == 3
