"""The Stripe client of one campaign's account. STRIPE_API_BASE points it elsewhere (tests:
a localstripe server); nothing else in the code knows it is not the real Stripe."""

from __future__ import annotations

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
