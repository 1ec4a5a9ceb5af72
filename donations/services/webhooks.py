"""Stripe webhooks, the source of truth for online gifts.

Each campaign has its own endpoint and signing secret. A delivery is verified against that
campaign's secret (raw body, 5-minute tolerance), then stored once per (campaign, event id): the
inbox. The endpoint answers as soon as the event is stored; a transactional task applies it under
a row lock, exactly once (a duplicate finds the row processed; a crash rolls the application back
and leaves the event pending, for Stripe's redelivery or the sweeper). Handlers read state and
never assume the order of arrival.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

import stripe
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from cocarde.celery import app as celery_app
from cocarde.tenancy.models import Campaign
from donations.models import DonationSettings, WebhookEvent
from donations.services import ledger, secrets
from donations.services.stripe_api import as_id, client_for
from donations.tasks import (
    transactional_drain_stripe_events,
    transactional_process_stripe_event,
)

logger = logging.getLogger(__name__)
TOLERANCE_SECONDS = 300


class InvalidDelivery(Exception):
    """Bad or missing signature, stale timestamp, unparsable body."""


# Per-process cache of each campaign's webhook secret: campaign id -> (encrypted token, secret).
# A hit is never trusted on its own: the inbox INSERT only stores the event if the campaign's
# stored token is still the one whose secret verified the signature (same statement), and a
# failed verification or a changed token re-reads the row. A rotated or removed secret is thus
# seen by the very next delivery. Only campaigns that have a secret are cached (bounded).
_SECRETS: dict[int, tuple[str, str]] = {}
_SECRETS_MAX = 1024


def _account_secret(campaign_id: int, *, fresh: bool = False) -> tuple[str, str]:
    """(encrypted token, decrypted secret) of the campaign's webhook secret; ('', '') if none."""
    if not fresh and (hit := _SECRETS.get(campaign_id)) is not None:
        return hit
    token = (
        DonationSettings.objects.filter(campaign_id=campaign_id)
        .values_list("stripe_webhook_secret_encrypted", flat=True)
        .first()
    ) or ""
    found = (token, secrets.decrypt_cached(token))
    if token:
        if len(_SECRETS) >= _SECRETS_MAX:
            _SECRETS.clear()
        _SECRETS[campaign_id] = found
    else:
        _SECRETS.pop(campaign_id, None)
    return found


def secret_for(campaign_id: int) -> str:
    """The campaign's webhook signing secret ('' when it has none), from the per-process cache
    (one query the first time). Callers that store must re-check the token (see receive())."""
    return _account_secret(campaign_id)[1]


def verify(secret: str, body: bytes, signature: str) -> dict[str, Any]:
    if not secret or not signature:
        raise InvalidDelivery("missing signature or secret")
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8"), signature, secret, TOLERANCE_SECONDS
        )
        payload = json.loads(body)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise InvalidDelivery(str(error)) from error
    if not isinstance(payload, dict) or not payload.get("id") or not payload.get("type"):
        raise InvalidDelivery("not an event")
    return payload


# One round trip: the event is stored only if the campaign's secret is still the one that
# verified the signature (`account`); for a duplicate, the stored row's id and processed mark.
STORE_EVENT = (
    "WITH account AS ("
    " SELECT 1 FROM donations_donationsettings"
    " WHERE campaign_id = %(campaign)s AND stripe_webhook_secret_encrypted = %(token)s"
    "), inserted AS ("
    " INSERT INTO donations_webhookevent"
    " (campaign_id, event_id, type, stripe_created, payload, received_at, result)"
    " SELECT %(campaign)s, %(event)s, %(type)s, %(created)s::bigint, %(payload)s::jsonb,"
    " %(now)s::timestamptz, '' FROM account"
    " ON CONFLICT (campaign_id, event_id) DO NOTHING RETURNING id"
    ") "
    "SELECT EXISTS (SELECT 1 FROM account), (SELECT id FROM inserted), e.id, e.processed_at "
    "FROM (SELECT 1) AS one LEFT JOIN donations_webhookevent AS e"
    " ON e.campaign_id = %(campaign)s AND e.event_id = %(event)s"
)


def _verified(campaign_id: int, body: bytes, signature: str) -> tuple[str, dict[str, Any]]:
    """(token of the secret that verified the body, payload); a failure with a cached secret
    is retried once with the secret read again."""
    token, secret = _account_secret(campaign_id)
    try:
        return token, verify(secret, body, signature)
    except InvalidDelivery:
        fresh_token, fresh_secret = _account_secret(campaign_id, fresh=True)
        if fresh_token == token:
            raise
        return fresh_token, verify(fresh_secret, body, signature)


def receive(campaign_id: int, body: bytes, signature: str) -> str:
    """Verify and store the event once (the inbox: one INSERT ... ON CONFLICT DO NOTHING), then
    have it applied after commit. Raises InvalidDelivery (answer 400): nothing is stored then."""
    token, payload = _verified(campaign_id, body, signature)
    event_id = str(payload["id"])[:100]
    params: dict[str, Any] = {
        "campaign": campaign_id,
        "event": event_id,
        "type": str(payload["type"])[:100],
        "created": int(payload.get("created") or 0),
        "payload": body.decode("utf-8"),  # verified and parsed above: stored as received
        "now": timezone.now(),
    }
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(STORE_EVENT, {**params, "token": token})
            account_ok, inserted, existing_id, processed_at = cursor.fetchone()
        if account_ok:
            break
        # The secret changed since it was cached: verify against the stored one, or refuse.
        fresh_token, fresh_secret = _account_secret(campaign_id, fresh=True)
        if fresh_token == token:
            raise InvalidDelivery("the campaign's secret changed during the delivery")
        verify(fresh_secret, body, signature)
        token = fresh_token
    else:
        raise InvalidDelivery("the campaign's secret changed during the delivery")
    if inserted is not None:
        row_id, outcome = int(inserted), "queued"
    else:
        if existing_id is None:  # inserted by a concurrent delivery after this statement began
            existing_id, processed_at = (
                WebhookEvent.objects.filter(campaign_id=campaign_id, event_id=event_id)
                .values_list("pk", "processed_at")
                .get()
            )
        if processed_at is not None:
            return "duplicate"
        # A redelivery of an event not applied yet (a crash, a lost task) queues it again;
        # process_event() applies it once whatever the number of queued copies.
        row_id, outcome = int(existing_id), "queued again"
    transaction.on_commit(lambda: _enqueue(row_id))
    return outcome


DRAIN_FLAG = "donations:drain-scheduled"
DRAIN_DEBOUNCE_SECONDS = 1
# After this process itself scheduled a drain (countdown DRAIN_DEBOUNCE_SECONDS), events it
# stores during this much less time are sure to be committed before that drain starts: no need
# to ask Redis again (the margin covers clock differences with the worker).
_OWN_DRAIN_WINDOW_SECONDS = 0.8
_own_drain_until = 0.0


def _enqueue(event_row_id: int) -> None:
    """Have the event applied. With eager tasks (embedded mode, tests) it is applied now; with
    workers, one drain task is queued per second at most, whatever the rate of events: a task
    per event would cost the endpoint more than the event itself."""
    global _own_drain_until
    if celery_app.conf.task_always_eager:
        transactional_process_stripe_event.delay(event_row_id)
        return
    now = time.monotonic()
    if now < _own_drain_until:  # committed before the drain this process queued can start
        return
    if cache.add(DRAIN_FLAG, 1, DRAIN_DEBOUNCE_SECONDS):
        transactional_drain_stripe_events.apply_async(countdown=DRAIN_DEBOUNCE_SECONDS)
        _own_drain_until = now + _OWN_DRAIN_WINDOW_SECONDS


def process_event(event_row_id: int, *, skip_locked: bool = False) -> str:
    """Apply one stored event exactly once: the row is locked, applied and marked in one
    transaction; a crash rolls all of it back and the event stays pending."""
    with transaction.atomic():
        row = (
            WebhookEvent.objects.select_for_update(skip_locked=skip_locked, of=("self",))
            .select_related("campaign")
            .filter(pk=event_row_id)
            .first()
        )
        if row is None or row.processed_at is not None:
            return "already processed"
        result = apply_event(row.campaign, row.payload)
        row.processed_at = timezone.now()
        row.result = result[:200]
        row.save(update_fields=["processed_at", "result"])
    return result


def process_pending(*, older_than_seconds: int = 60, limit: int = 1000) -> int:
    """Apply stored events not applied yet, oldest first (Stripe's creation time). Used by the
    drain task (every pending event) and the sweeper (events a crash or a lost task left).
    Several workers may run it at once: each event is applied by one of them."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    count = 0
    pending = WebhookEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
    for row_id in pending.order_by("stripe_created", "pk").values_list("pk", flat=True)[:limit]:
        try:
            if process_event(row_id, skip_locked=True) != "already processed":
                count += 1
        except Exception:  # one bad event must not block the others; it stays pending
            logger.exception("donations: stored Stripe event %s failed", row_id)
    return count


def apply_event(campaign: Campaign, event: dict[str, Any]) -> str:
    kind = str(event["type"])
    obj = (event.get("data") or {}).get("object") or {}
    if kind.startswith("payment_intent."):
        if obj.get("invoice"):
            return "monthly payment: handled by its invoice"
        if not ledger.belongs_to(campaign, obj):
            return "other campaign"
        if kind == "payment_intent.succeeded":
            return ledger.apply_payment_succeeded(campaign, obj)
        status = {
            "payment_intent.processing": "processing",
            "payment_intent.payment_failed": "failed",
            "payment_intent.canceled": "failed",
        }.get(kind)
        return ledger.apply_payment_status(campaign, obj, status) if status else "ignored"
    if kind in (
        "charge.refunded",
        "charge.refund.updated",
        "charge.dispute.created",
        "charge.dispute.closed",
    ):
        return _apply_charge_event(campaign, kind, obj)
    if kind in ("invoice.payment_succeeded", "invoice.paid"):
        return ledger.apply_invoice_paid(campaign, obj)
    if kind == "invoice.payment_failed":
        return _invoice_failed(campaign, obj)
    if kind.startswith("customer.subscription."):
        if kind == "customer.subscription.deleted":
            obj = {**obj, "status": "canceled"}
        return ledger.apply_subscription(campaign, obj)
    return "ignored"


def _apply_charge_event(campaign: Campaign, kind: str, obj: dict[str, Any]) -> str:
    pi_id = as_id(obj.get("payment_intent"))
    if not pi_id:
        return "no payment intent"
    # The charge may arrive before the payment's own event: read the payment from Stripe.
    from donations.models import Donation

    if not Donation.objects.filter(campaign=campaign, payment_intent_id=pi_id).exists():
        payment = client_for(campaign).v1.payment_intents.retrieve(pi_id).to_dict()
        if not ledger.belongs_to(campaign, payment) or payment.get("status") != "succeeded":
            return "other campaign or unpaid"
        ledger.apply_payment_succeeded(campaign, payment)
    if kind.startswith("charge.dispute."):
        return ledger.apply_dispute(campaign, obj, closed=kind.endswith("closed"))
    if kind == "charge.refund.updated":
        charge = client_for(campaign).v1.charges.retrieve(as_id(obj.get("charge"))).to_dict()
        return ledger.apply_refund(campaign, charge)
    return ledger.apply_refund(campaign, obj)


def _invoice_failed(campaign: Campaign, invoice: dict[str, Any]) -> str:
    from donations.models import RecurringGift

    gift = RecurringGift.objects.filter(
        campaign=campaign, stripe_subscription_id=as_id(invoice.get("subscription"))
    ).first()
    if gift is None:
        return "unknown subscription"
    if gift.status == RecurringGift.Status.ACTIVE:
        RecurringGift.objects.filter(pk=gift.pk).update(status=RecurringGift.Status.PAST_DUE)
    from donations.tasks import transactional_send_payment_failed

    gift_id, invoice_id = gift.pk, str(invoice.get("id", ""))
    transaction.on_commit(lambda: transactional_send_payment_failed.delay(gift_id, invoice_id))
    return "monthly payment failed"
