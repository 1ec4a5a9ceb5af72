"""Who sees which territory: the campaigns a user may view (through cocarde.tenancy) and the
bureaux of each campaign's territory. Another campaign answers 404."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from cocarde.tenancy.models import Campaign
from cocarde.tenancy.permissions import Capability, campaigns_for
from territory.models import Zone
from territory.selectors import campaign_bureaux

# The map shows public results and statistics; seeing it is seeing the campaign.
MAP_CAPABILITY = Capability.VIEW_CAMPAIGN


def visible_campaigns(user: Any) -> Any:
    return campaigns_for(user, MAP_CAPABILITY).order_by("kind", "name")


def campaign_for(user: Any, campaign_id: int | str) -> Campaign:
    try:
        return visible_campaigns(user).get(pk=int(campaign_id))
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def bureau_for(campaign: Campaign, bureau_id: int | str) -> Zone:
    try:
        return campaign_bureaux(campaign).get(pk=int(bureau_id))
    except (Zone.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
