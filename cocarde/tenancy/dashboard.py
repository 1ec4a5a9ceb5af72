"""The admin home: one panel listing the user's campaigns, with figures each app contributes.

An app adds figures by registering a provider:

    @register_figures
    def people_figures(request, campaign):
        yield DashboardFigure(_("People"), count, url)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from wagtail.admin.ui.components import Component

from cocarde.tenancy.models import Campaign
from cocarde.tenancy.permissions import Capability, campaigns_for, can

MAX_CAMPAIGNS_SHOWN = 30


@dataclass(frozen=True)
class DashboardFigure:
    label: str
    value: Any
    url: str | None = None


FigureProvider = Callable[[HttpRequest, Campaign], Iterable[DashboardFigure]]
_providers: list[FigureProvider] = []


def register_figures(provider: FigureProvider) -> FigureProvider:
    _providers.append(provider)
    return provider


class CampaignsPanel(Component):
    name = "campaigns"
    order = 50
    template_name = "tenancy/dashboard_panel.html"

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def get_context_data(self, parent_context: Any) -> dict[str, Any]:
        user = self.request.user
        visible = (
            campaigns_for(user).select_related("election").prefetch_related("election__rounds")
        )
        cards = []
        for campaign in visible[:MAX_CAMPAIGNS_SHOWN]:
            cards.append(
                {
                    "campaign": campaign,
                    "rounds": list(campaign.election.rounds.all()) if campaign.election else [],
                    "figures": [f for p in _providers for f in p(self.request, campaign)],
                    "edit_url": reverse("campaign:edit", args=[campaign.pk])
                    if can(user, Capability.MANAGE_CAMPAIGN, campaign)
                    else None,
                }
            )
        return {
            "cards": cards,
            "total": visible.count(),
            "shown": len(cards),
            "campaigns_url": reverse("campaign:index"),
            "has_providers": bool(_providers),
        }
