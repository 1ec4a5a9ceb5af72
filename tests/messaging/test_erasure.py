"""Erasure reaches what names a person by address: outbox copies and provider payloads."""

from __future__ import annotations

import pytest
from django.core import mail

from crm.models import Person
from crm.services.gdpr import erase_person
from messaging.models import Delivery, OutboxMessage, ProviderEvent
from messaging.services import blasts, events, pipeline

pytestmark = pytest.mark.django_db


def test_erasing_a_person_removes_their_outbox_copies_and_empties_their_events(
    audience, make_blast, campaign
):
    segment = audience(campaign, 2)
    blast = make_blast(segment)
    blasts.start_blast(blast.pk)
    assert pipeline.run_blast(blast.pk) == "done"
    gone, kept = Delivery.objects.filter(blast=blast).order_by("pk")
    for delivery in (gone, kept):
        result = events.apply_sendgrid_event(
            {"sg_event_id": f"ev-{delivery.pk}", "event": "delivered",
             "email": delivery.address, "cocarde_delivery": str(delivery.pk)}
        )  # fmt: skip
        assert result != "duplicate"
    # A transactional message (a receipt, a confirmation) in the outbox, linked by address only.
    OutboxMessage.objects.create(campaign=campaign, to=gone.address, subject="Votre reçu")
    mail.outbox.clear()

    erase_person(Person.objects.get(pk=gone.person_id), actor=None)

    assert not OutboxMessage.objects.filter(to=gone.address).exists()
    assert OutboxMessage.objects.filter(to=kept.address, delivery=kept).count() == 1
    erased_event = ProviderEvent.objects.get(event_id=f"ev-{gone.pk}")
    assert erased_event.payload == {} and erased_event.delivery is None
    assert ProviderEvent.objects.get(event_id=f"ev-{kept.pk}").payload["email"] == kept.address
    # The emptied event still de-duplicates a replay.
    replay = {"sg_event_id": f"ev-{gone.pk}", "event": "delivered", "email": gone.address}
    assert events.apply_sendgrid_event(replay) == "duplicate"


def test_provider_payloads_are_emptied_after_the_retention_period(
    audience, make_blast, campaign, settings
):
    import datetime as dt

    from django.utils import timezone

    from messaging.tasks import bulk_empty_old_provider_payloads

    settings.PROVIDER_PAYLOAD_RETENTION_DAYS = 90
    segment = audience(campaign, 2)
    blast = make_blast(segment)
    blasts.start_blast(blast.pk)
    assert pipeline.run_blast(blast.pk) == "done"
    old, recent = Delivery.objects.filter(blast=blast).order_by("pk")
    for delivery in (old, recent):
        events.apply_sendgrid_event(
            {"sg_event_id": f"ev-{delivery.pk}", "event": "delivered",
             "email": delivery.address, "cocarde_delivery": str(delivery.pk)}
        )  # fmt: skip
    ProviderEvent.objects.filter(event_id=f"ev-{old.pk}").update(
        received_at=timezone.now() - dt.timedelta(days=91)
    )

    assert bulk_empty_old_provider_payloads.delay().get() == 1
    assert bulk_empty_old_provider_payloads.delay().get() == 0  # nothing left to empty

    emptied = ProviderEvent.objects.get(event_id=f"ev-{old.pk}")
    assert emptied.payload == {} and emptied.delivery_id == old.pk  # what it changed stays
    assert ProviderEvent.objects.get(event_id=f"ev-{recent.pk}").payload["email"]
    old.refresh_from_db()
    assert old.delivered_at is not None
    replay = {"sg_event_id": f"ev-{old.pk}", "event": "delivered", "email": old.address}
    assert events.apply_sendgrid_event(replay) == "duplicate"
