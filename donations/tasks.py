"""Donations background work. Thin and idempotent: each task calls a service or sends one email
whose "sent" mark is taken under a row lock or a unique constraint, so a redelivered task sends
nothing new."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from donations.models import Donation, PaymentFailureNotice, Receipt, RecurringGift


def _base_url(campaign) -> str:  # type: ignore[no-untyped-def]
    from sites.selectors import site_for_campaign

    site = site_for_campaign(campaign)
    return str(site.root_url).rstrip("/") if site is not None else ""


def _reply_to(campaign) -> list[str] | None:  # type: ignore[no-untyped-def]
    return [campaign.contact_email] if campaign.contact_email else None


@shared_task(name="donations.tasks.transactional_send_thanks")
def transactional_send_thanks(donation_id: int) -> bool:
    """The thank-you email, with the receipt attached when the gift has one. Once per gift."""
    with transaction.atomic():
        donation = (
            Donation.objects.select_for_update(of=("self",))
            .filter(pk=donation_id, thanked_at__isnull=True)
            .select_related("campaign", "recurring_gift")
            .first()
        )
        if donation is None or not donation.email:
            return False
        receipt = donation.receipts.filter(status=Receipt.Status.ISSUED).first()
        manage_link = ""
        if donation.recurring_gift is not None:
            from donations.services.giving import manage_token

            token = manage_token(donation.recurring_gift)
            manage_link = f"{_base_url(donation.campaign)}/donations/mensuel/{token}/"
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "donation": donation,
                "campaign": donation.campaign,
                "receipt": receipt,
                "manage_link": manage_link,
            }
            subject = render_to_string("donations/email/thanks_subject.txt", context).strip()
            body = render_to_string("donations/email/thanks.txt", context)
        message = EmailMessage(
            subject,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [donation.email],
            reply_to=_reply_to(donation.campaign),
        )
        if receipt is not None:
            from donations.services.receipts import pdf_bytes

            message.attach(f"recu-{receipt.number}.pdf", pdf_bytes(receipt), "application/pdf")
            Receipt.objects.filter(pk=receipt.pk).update(
                sent_at=timezone.now(), send_count=receipt.send_count + 1
            )
        donation.thanked_at = timezone.now()
        donation.save(update_fields=["thanked_at"])
        message.send()
    return True


@shared_task(name="donations.tasks.transactional_send_receipt")
def transactional_send_receipt(receipt_id: int) -> bool:
    """A receipt on its own: numbered after the gift, or re-sent by the treasurer."""
    with transaction.atomic():
        receipt = (
            Receipt.objects.select_for_update(of=("self",))
            .filter(pk=receipt_id, status=Receipt.Status.ISSUED)
            .select_related("donation", "campaign")
            .first()
        )
        if receipt is None or not receipt.donation.email:
            return False
        from donations.services.receipts import pdf_bytes

        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "receipt": receipt,
                "donation": receipt.donation,
                "campaign": receipt.campaign,
            }
            subject = render_to_string("donations/email/receipt_subject.txt", context).strip()
            body = render_to_string("donations/email/receipt.txt", context)
        message = EmailMessage(
            subject,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [receipt.donation.email],
            reply_to=_reply_to(receipt.campaign),
        )
        message.attach(f"recu-{receipt.number}.pdf", pdf_bytes(receipt), "application/pdf")
        Receipt.objects.filter(pk=receipt.pk).update(
            sent_at=timezone.now(), send_count=receipt.send_count + 1
        )
        message.send()
    return True


@shared_task(name="donations.tasks.transactional_send_payment_failed")
def transactional_send_payment_failed(
    gift_id: int,
    invoice_id: str,
    attempt: int = 1,
    *,
    next_attempt: int | None = None,
    final: bool = False,
) -> bool:
    """Stripe retries a failed monthly payment; the donor hears of each failed attempt once:
    when Stripe tries again (`next_attempt`, a Unix time, if known), or, after its last attempt
    (`final`), that none will follow and the gift stops (Stripe's default: the subscription is
    cancelled once every retry has failed)."""
    gift = RecurringGift.objects.filter(pk=gift_id).select_related("campaign", "attempt").first()
    if gift is None or gift.attempt is None or not gift.attempt.email:
        return False
    from donations.services.giving import manage_token

    with transaction.atomic():
        # The mark commits with the sending: a concurrent copy waits on the unique index, then
        # finds it; a failed send rolls it back for the task's retry.
        try:
            with transaction.atomic():
                PaymentFailureNotice.objects.create(
                    recurring_gift=gift, invoice_id=invoice_id[:100], attempt=attempt
                )
        except IntegrityError:
            return False
        with translation.override(settings.LANGUAGE_CODE):
            base_url = _base_url(gift.campaign)
            context = {
                "gift": gift,
                "campaign": gift.campaign,
                "final": final,
                "next_attempt": (
                    dt.datetime.fromtimestamp(int(next_attempt), dt.UTC) if next_attempt else None
                ),
                "site_link": base_url,
                "manage_link": f"{base_url}/donations/mensuel/{manage_token(gift)}/",
            }
            subject = render_to_string(
                "donations/email/payment_failed_subject.txt", context
            ).strip()
            body = render_to_string("donations/email/payment_failed.txt", context)
        EmailMessage(
            subject,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [gift.attempt.email],
            reply_to=_reply_to(gift.campaign),
        ).send()
    return True


@shared_task(name="donations.tasks.transactional_process_stripe_event")
def transactional_process_stripe_event(event_row_id: int) -> str:
    from donations.services.webhooks import process_event

    return process_event(event_row_id)


@shared_task(name="donations.tasks.transactional_drain_stripe_events")
def transactional_drain_stripe_events() -> int:
    """Apply every stored event (queued at most once a second by the webhook endpoint)."""
    from django.core.cache import cache

    from donations.services.webhooks import DRAIN_FLAG, process_pending

    cache.delete(DRAIN_FLAG)  # events stored from now on schedule the next drain
    total = 0
    while applied := process_pending(older_than_seconds=-60, limit=500):
        total += applied
    return total


@shared_task(name="donations.tasks.bulk_process_pending_events")
def bulk_process_pending_events() -> int:
    from donations.services.webhooks import process_pending

    return process_pending()


@shared_task(name="donations.tasks.bulk_empty_old_webhook_payloads")
def bulk_empty_old_webhook_payloads() -> int:
    """Applied Stripe events only: a pending one still needs its payload."""
    from cocarde.payloads import empty_payloads, retention_cutoff
    from donations.models import WebhookEvent

    applied = WebhookEvent.objects.filter(processed_at__isnull=False)
    return empty_payloads(applied, received_before=retention_cutoff())


@shared_task(name="donations.tasks.bulk_reconcile_payments")
def bulk_reconcile_payments() -> dict[str, dict[str, int]]:
    from donations.services.reconcile import reconcile_all

    return {str(k): v for k, v in reconcile_all().items()}
