"""How long raw provider payloads are kept.

What Stripe, SendGrid or Twilio post to our webhooks names people: email, phone number, the
donor's tax address. The payload is needed while the event is applied and for a short window of
support and audit; after PROVIDER_PAYLOAD_RETENTION_DAYS it is emptied (CNIL: each category of
personal data has its retention period). The rows stay, emptied: their event ids keep a replayed
webhook from being applied a second time, and what the event changed is recorded elsewhere.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Max, Min, QuerySet
from django.utils import timezone

BATCH = 5000


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=settings.PROVIDER_PAYLOAD_RETENTION_DAYS)


def empty_payloads(rows: QuerySet[Any], *, received_before: dt.datetime) -> int:
    """Empties the `payload` of the rows received before the date; the number emptied. Works
    through primary-key ranges, each its own short statement, never one long locking scan."""
    old = rows.filter(received_at__lt=received_before)
    bounds = old.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 0
    emptied = 0
    for start in range(bounds["low"], bounds["high"] + 1, BATCH):
        emptied += (
            old.filter(pk__gte=start, pk__lt=start + BATCH).exclude(payload={}).update(payload={})
        )
    return emptied
