"""The Stripe client of one campaign's account. STRIPE_API_BASE points it elsewhere (tests:
a localstripe server); nothing else in the code knows it is not the real Stripe."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe
from django.conf import settings

from cocarde.tenancy.models import Campaign
from donations.services import secrets
from donations.services.rules import settings_for


def client_for(campaign: Campaign) -> stripe.StripeClient:
    own = settings_for(campaign)
    key = secrets.decrypt(own.stripe_secret_key_encrypted)
    if not key:
        raise RuntimeError(f"Campaign {campaign.pk} has no Stripe account")
    base = settings.STRIPE_API_BASE
    if base:
        return stripe.StripeClient(key, base_addresses={"api": base}, max_network_retries=2)
    return stripe.StripeClient(key, max_network_retries=2)


def webhook_secret(campaign: Campaign) -> str:
    return secrets.decrypt(settings_for(campaign).stripe_webhook_secret_encrypted)


def as_id(value: Any) -> str:
    """An id whether Stripe expanded the object or not."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value.get("id", "") if hasattr(value, "get") else getattr(value, "id", ""))


# Stripe moved two invoice fields in API version 2025-03-31 ("basil"). A webhook endpoint renders
# its events in its own API version, which may differ from this client's: read both shapes.


def invoice_subscription_id(invoice: Mapping[str, Any]) -> str:
    """`subscription` before basil, `parent.subscription_details.subscription` since."""
    if found := as_id(invoice.get("subscription")):
        return found
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return as_id(details.get("subscription"))


def invoice_payment_intent_id(invoice: Mapping[str, Any]) -> str:
    """`payment_intent` before basil; since, the payments list when the event carries it."""
    if found := as_id(invoice.get("payment_intent")):
        return found
    for entry in (invoice.get("payments") or {}).get("data") or []:
        if found := as_id((entry.get("payment") or {}).get("payment_intent")):
            return found
    return ""
