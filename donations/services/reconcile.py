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
from donations.services.stripe_api import as_id, client_for

logger = logging.getLogger(__name__)


def reconcile_campaign(campaign: Campaign, *, since: dt.datetime | None = None) -> dict[str, int]:
    since = since or timezone.now() - dt.timedelta(days=7)
    floor = int(since.timestamp())
    client = client_for(campaign)
    counts = {"seen": 0, "repaired": 0, "refunds": 0}
    for payment in client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter():
        data: dict[str, Any] = payment.to_dict()
        if int(data.get("created") or 0) < floor:
            continue
        if data.get("status") != "succeeded":
            continue
        if data.get("invoice"):
            invoice = client.v1.invoices.retrieve(as_id(data["invoice"])).to_dict()
            subscription = as_id(invoice.get("subscription"))
            if not RecurringGift.objects.filter(
                campaign=campaign, stripe_subscription_id=subscription
            ).exists():
                continue
            counts["seen"] += 1
            if ledger.apply_invoice_paid(campaign, invoice) == "recorded monthly":
                counts["repaired"] += 1
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
