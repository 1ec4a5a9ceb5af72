"""Donations in the Wagtail admin: menu, URLs and dashboard figures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Sum
from django.http import HttpRequest
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from cocarde.tenancy.dashboard import DashboardFigure, register_figures
from cocarde.tenancy.models import Campaign
from cocarde.tenancy.permissions import Capability, campaign_ids_for, can
from donations import admin_urls


class CapabilityMenuItem(MenuItem):
    def __init__(self, *args: Any, capability: Capability, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capability = capability

    def is_shown(self, request: HttpRequest) -> bool:
        ids = campaign_ids_for(request.user, self.capability)
        return ids is None or bool(ids)


class DonationsSubmenu(SubmenuMenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        ids = campaign_ids_for(request.user, Capability.VIEW_DONATIONS)
        return ids is None or bool(ids)


@hooks.register("register_admin_urls")
def register_donation_urls() -> list[Any]:
    return [path("donations/", include(admin_urls))]


@hooks.register("register_admin_menu_item")
def register_donations_menu() -> MenuItem:
    items = [
        CapabilityMenuItem(
            _("Gifts"),
            reverse("donations_admin_list"),
            icon_name="form",
            order=1,
            capability=Capability.VIEW_DONATIONS,
        ),
        CapabilityMenuItem(
            _("Offline gift"),
            reverse("donations_admin_offline"),
            icon_name="plus",
            order=2,
            capability=Capability.MANAGE_DONATIONS,
        ),
        CapabilityMenuItem(
            _("Receipts"),
            reverse("donations_admin_receipts"),
            icon_name="doc-full",
            order=3,
            capability=Capability.VIEW_DONATIONS,
        ),
        CapabilityMenuItem(
            _("Payment account"),
            reverse("donations_admin_accounts"),
            icon_name="cog",
            order=4,
            capability=Capability.MANAGE_DONATIONS,
        ),
    ]
    return DonationsSubmenu(_("Donations"), Menu(items=items), icon_name="tag", order=250)


@register_figures
def donation_figures(request: HttpRequest, campaign: Campaign) -> Iterator[DashboardFigure]:
    if not can(request.user, Capability.VIEW_DONATIONS, campaign):
        return
    from donations.models import Donation

    total = Donation.objects.filter(campaign=campaign).aggregate(
        total=Sum("amount_cents", default=0) - Sum("refunded_cents", default=0)
    )["total"]
    url = f"{reverse('donations_admin_list')}?campaign={campaign.pk}"
    yield DashboardFigure(_("Donations (€)"), f"{total / 100:,.0f}".replace(",", " "), url)
