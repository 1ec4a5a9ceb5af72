"""What erasure removes from messaging beyond the person's deliveries (which cascade): copies
of messages and provider payloads that name the person by address, not by foreign key."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from messaging.models import Delivery, OutboxMessage, ProviderEvent


def erase_messages(person: Any, emails: list[str], phones: list[str]) -> int:
    """Deletes the outbox copies sent to the person (blasts, receipts, confirmations) and
    empties the payloads of provider events about them. The events themselves stay, emptied:
    their ids keep a replayed webhook from being applied a second time."""
    addresses = [*emails, *phones]
    deliveries = Delivery.objects.filter(person=person).values("pk")
    outbox = OutboxMessage.objects.filter(Q(delivery__in=deliveries) | Q(to__in=addresses))
    erased, _by_model = outbox.delete()
    # The keys each provider puts the address under: SendGrid and Anymail events ("email"),
    # Twilio status callbacks ("To") and inbound messages ("From").
    events = ProviderEvent.objects.filter(
        Q(delivery__in=deliveries)
        | Q(payload__email__in=emails)
        | Q(payload__To__in=phones)
        | Q(payload__From__in=phones)
    )
    return erased + events.update(payload={}, delivery=None)
