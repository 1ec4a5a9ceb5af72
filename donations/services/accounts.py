"""A campaign's payment account and finance settings: keys encrypted at rest, changes audited,
the campaign's cached pages refreshed (the donation page shows whether it collects)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from donations.models import DonationSettings
from donations.services import secrets

SETTING_FIELDS = {
    "stripe_publishable_key",
    "collection_opens_on",
    "collection_closes_on",
    "spending_ceiling_cents",
    "tax_reduction_percent",
    "goal_cents",
    "custom_cap_cents",
    "custom_cap_period",
}


@transaction.atomic
def configure(
    campaign: Campaign,
    *,
    actor: Any,
    secret_key: str | None = None,
    webhook_secret: str | None = None,
    **changes: Any,
) -> DonationSettings:
    """Set the account keys (None keeps the current one) and the finance settings."""
    unknown = set(changes) - SETTING_FIELDS
    if unknown:
        raise TypeError(f"Unknown donation settings: {', '.join(sorted(unknown))}")
    row, _created = DonationSettings.objects.select_for_update().get_or_create(campaign=campaign)
    for name, value in changes.items():
        setattr(row, name, value)
    if secret_key is not None:
        row.stripe_secret_key_encrypted = secrets.encrypt(secret_key.strip())
    if webhook_secret is not None:
        row.stripe_webhook_secret_encrypted = secrets.encrypt(webhook_secret.strip())
    row.save()
    campaign._donation_settings_cache = row  # type: ignore[attr-defined]
    record_event(
        "donations.settings",
        actor=actor,
        campaign=campaign,
        target=row,
        data={
            "fields": sorted(changes),
            "secret_key_changed": secret_key is not None,
            "webhook_secret_changed": webhook_secret is not None,
        },
    )
    transaction.on_commit(lambda: _refresh_pages(campaign))
    return row


def _refresh_pages(campaign: Campaign) -> None:
    from sites.cache import invalidate_site
    from sites.selectors import site_for_campaign

    invalidate_site(site_for_campaign(campaign))


def collects_on(campaign: Campaign, day: dt.date) -> bool:
    from donations.services.rules import collection_problem

    return not collection_problem(campaign, online=True, on=day)
