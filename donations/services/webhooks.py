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

import psycopg
import stripe
from django.core.cache import cache
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from cocarde.celery import app as celery_app
from cocarde.tenancy.models import Campaign
from donations.models import DonationSettings, WebhookEvent
from donations.services import ledger, secrets
from donations.services.stripe_api import as_id, client_for, invoice_subscription_id
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


# The event is stored only if the campaign's secret is still the one that verified the signature
# (the cached secret may have been rotated since). Most deliveries are new: one round trip.
INSERT_EVENT = (
    "INSERT INTO donations_webhookevent"
    " (campaign_id, event_id, type, stripe_created, payload, received_at, result)"
    " SELECT %(campaign)s, %(event)s, %(type)s, %(created)s::bigint, %(payload)s::jsonb,"
    " %(now)s::timestamptz, ''"
    " WHERE EXISTS (SELECT 1 FROM donations_donationsettings"
    " WHERE campaign_id = %(campaign)s AND stripe_webhook_secret_encrypted = %(token)s)"
    " ON CONFLICT (campaign_id, event_id) DO NOTHING RETURNING id"
)
# When nothing was inserted: is the secret still current, and the stored row (a duplicate).
FIND_EVENT = (
    "SELECT EXISTS (SELECT 1 FROM donations_donationsettings"
    " WHERE campaign_id = %(campaign)s AND stripe_webhook_secret_encrypted = %(token)s),"
    " e.id, e.processed_at"
    " FROM (SELECT 1) AS one LEFT JOIN donations_webhookevent AS e"
    " ON e.campaign_id = %(campaign)s AND e.event_id = %(event)s"
)


def _store(params: dict[str, Any]) -> tuple[bool, int | None, int | None, Any]:
    """(secret still current, new row id, stored row id, its processed_at): the event is
    stored durably, once, if the secret is current."""
    if connection.vendor != "postgresql":
        return _store_portable(params)
    if (row := _execute(INSERT_EVENT, params)) is not None:
        return True, int(row[0]), None, None
    found = _execute(FIND_EVENT, params)  # always one row
    return bool(found[0]), None, found[1], found[2]  # type: ignore[index]


def _execute(sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """One autocommitted statement (durable when it returns), prepared once per connection.

    Under a burst the endpoint's cost is CPU, shared by gunicorn and PostgreSQL: parsing and
    planning the statement with its payload inlined (Django's client-side binding) cost
    PostgreSQL twice as much. The persistent connection is used without Django's per-request
    health check (one more round trip per delivery): a connection found dead is replaced and
    the statement run again, which is harmless (ON CONFLICT, or a read).
    """
    for attempt in range(2):
        connection.ensure_connection()
        try:
            with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
                return cursor.execute(sql, params, prepare=True).fetchone()
        except OperationalError:
            if attempt or connection.in_atomic_block or connection.is_usable():
                raise
            connection.close()  # the server closed it (restart, idle timeout): reconnect once
    raise AssertionError("unreachable")


def _store_portable(params: dict[str, Any]) -> tuple[bool, int | None, int | None, Any]:
    """_store() through the ORM, for the embedded mode's SQLite."""
    if not DonationSettings.objects.filter(
        campaign_id=params["campaign"], stripe_webhook_secret_encrypted=params["token"]
    ).exists():
        return False, None, None, None
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                campaign_id=params["campaign"],
                event_id=params["event"],
                type=params["type"],
                stripe_created=params["created"],
                payload=json.loads(params["payload"]),
                received_at=params["now"],
            )
    except IntegrityError:  # stored already
        found = WebhookEvent.objects.filter(
            campaign_id=params["campaign"], event_id=params["event"]
        ).values_list("pk", "processed_at")
        return True, None, *found.get()
    return True, row.pk, None, None


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
        account_ok, inserted, existing_id, processed_at = _store({**params, "token": token})
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
        if existing_id is None:  # deleted since (its campaign was): nothing to apply
            raise InvalidDelivery("the campaign's events are gone")
        if processed_at is not None:
            return "duplicate"
        # A redelivery of an event not applied yet (a crash, a lost task) queues it again;
        # process_event() applies it once whatever the number of queued copies.
        row_id, outcome = int(existing_id), "queued again"
    transaction.on_commit(lambda: _enqueue(row_id))
    return outcome


DRAIN_FLAG = "donations:drain-scheduled"
# The flag lives DRAIN_FLAG_SECONDS and stands for a drain that starts DRAIN_DELAY_SECONDS after
# the flag was set. Whoever finds it set, by setting it or not, thus knows that a drain will
# start at least DRAIN_DELAY_SECONDS - DRAIN_FLAG_SECONDS from now, so the events this process
# stores until then need no new look at Redis (the margin covers clock differences with the
# worker). The drain deletes the flag as it starts: events stored after that schedule the next.
DRAIN_FLAG_SECONDS = 1
DRAIN_DELAY_SECONDS = 2
_COVERED_SECONDS = DRAIN_DELAY_SECONDS - DRAIN_FLAG_SECONDS - 0.2
_covered_until = 0.0


def _enqueue(event_row_id: int) -> None:
    """Have the event applied. With eager tasks (embedded mode, tests) it is applied now; with
    workers, a drain task is queued every DRAIN_FLAG_SECONDS at most, whatever the rate of
    events, and each web process asks Redis about it about once a second: a task, or a Redis
    round trip, per event would cost the endpoint more than the event itself."""
    global _covered_until
    if celery_app.conf.task_always_eager:
        transactional_process_stripe_event.delay(event_row_id)
        return
    now = time.monotonic()
    if now < _covered_until:  # committed before a drain known to be scheduled can start
        return
    if cache.add(DRAIN_FLAG, 1, DRAIN_FLAG_SECONDS):
        transactional_drain_stripe_events.apply_async(countdown=DRAIN_DELAY_SECONDS)
    _covered_until = now + _COVERED_SECONDS


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
        campaign=campaign, stripe_subscription_id=invoice_subscription_id(invoice)
    ).first()
    if gift is None:
        return "unknown subscription"
    if gift.status == RecurringGift.Status.ACTIVE:
        RecurringGift.objects.filter(pk=gift.pk).update(status=RecurringGift.Status.PAST_DUE)
    from donations.tasks import transactional_send_payment_failed

    # One email per failed attempt: Stripe counts its automatic attempts (a manual one, such as
    # the card change's, keeps the count), and the task sends each (invoice, attempt) once.
    gift_id, invoice_id = gift.pk, str(invoice.get("id", ""))
    attempt = int(invoice.get("attempt_count") or 1)
    next_attempt = invoice.get("next_payment_attempt")
    # Stripe's last attempt: the field is there and null (a payload without it is not read as
    # the end of the gift).
    final = "next_payment_attempt" in invoice and next_attempt is None
    transaction.on_commit(
        lambda: transactional_send_payment_failed.delay(
            gift_id, invoice_id, attempt, next_attempt=next_attempt, final=final
        )
    )
    return "monthly payment failed, last attempt" if final else "monthly payment failed"
