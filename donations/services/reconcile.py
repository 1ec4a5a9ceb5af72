"""Scheduled repair: list the recent PaymentIntents and invoices of each campaign's Stripe account
and apply every succeeded one we have not recorded (webhooks lost, endpoint down for days).
Idempotent: it goes through the same functions as the webhook."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone

from cocarde.tenancy.models import Campaign
from donations.models import DonationSettings, RecurringGift
from donations.services import ledger
from donations.services.stripe_api import client_for, invoice_subscription_id

logger = logging.getLogger(__name__)


def reconcile_campaign(campaign: Campaign, *, since: dt.datetime | None = None) -> dict[str, int]:
    since = since or timezone.now() - dt.timedelta(days=7)
    floor = int(since.timestamp())
    client = client_for(campaign)
    counts = {"seen": 0, "repaired": 0, "refunds": 0}
    # Monthly payments: from the paid invoices of the campaign's monthly gifts (a PaymentIntent
    # names its invoice only before Stripe's API version 2025-03-31).
    for listed in client.v1.invoices.list(params={"limit": 100}).auto_paging_iter():
        invoice: dict[str, Any] = listed.to_dict()
        if int(invoice.get("created") or 0) < floor or invoice.get("status") != "paid":
            continue
        subscription = invoice_subscription_id(invoice)
        if not RecurringGift.objects.filter(
            campaign=campaign, stripe_subscription_id=subscription
        ).exists():
            continue
        counts["seen"] += 1
        if ledger.apply_invoice_paid(campaign, invoice) == "recorded monthly":
            counts["repaired"] += 1
    # One-off gifts: from the PaymentIntents the donation form created (our metadata).
    for payment in client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter():
        data: dict[str, Any] = payment.to_dict()
        if int(data.get("created") or 0) < floor:
            continue
        if data.get("status") != "succeeded" or data.get("invoice"):
            continue
        if not ledger.belongs_to(campaign, data):
            continue
        counts["seen"] += 1
        if ledger.apply_payment_succeeded(campaign, data) == "recorded":
            counts["repaired"] += 1
        charge = data.get("latest_charge")
        if isinstance(charge, str) and charge:
            charge = client.v1.charges.retrieve(charge).to_dict()
        if isinstance(charge, dict) and int(charge.get("amount_refunded") or 0) > 0:
            if ledger.apply_refund(campaign, charge) == "refunded":
                counts["refunds"] += 1
    logger.info("donations: reconciled campaign %s: %s", campaign.pk, counts)
    return counts


def reconcile_all(*, since: dt.datetime | None = None) -> dict[int, dict[str, int]]:
    results = {}
    for own in DonationSettings.objects.exclude(stripe_secret_key_encrypted="").select_related(
        "campaign"
    ):
        try:
            results[own.campaign_id] = reconcile_campaign(own.campaign, since=since)
        except Exception:  # one campaign's account down must not stop the others
            logger.exception("donations: reconciliation failed for campaign %s", own.campaign_id)
    return results
