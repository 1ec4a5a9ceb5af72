"""Messaging in the Wagtail admin: menu, URLs, dashboard figures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from cocarde.tenancy.dashboard import DashboardFigure, register_figures
from cocarde.tenancy.models import Campaign
from cocarde.tenancy.permissions import Capability, campaign_ids_for, can
from messaging import admin_urls


class MessagingSubmenu(SubmenuMenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        ids = campaign_ids_for(request.user, Capability.SEND_MESSAGES)
        return ids is None or bool(ids)


@hooks.register("register_admin_urls")
def register_messaging_urls() -> list[Any]:
    return [path("messaging/", include(admin_urls))]


@hooks.register("register_admin_menu_item")
def register_messaging_menu() -> MenuItem:
    items = [
        MenuItem(_("Blasts"), reverse("messaging_blasts"), icon_name="mail", order=1),
        MenuItem(_("Outbox"), reverse("messaging_outbox"), icon_name="mail", order=2),
        MenuItem(_("Sender identities"), reverse("messaging_senders"), icon_name="user", order=3),
    ]
    return MessagingSubmenu(_("Email and SMS"), Menu(items=items), icon_name="mail", order=320)


@register_figures
def messaging_figures(request: HttpRequest, campaign: Campaign) -> Iterator[DashboardFigure]:
    from messaging.models import Blast

    if not can(request.user, Capability.SEND_MESSAGES, campaign):
        return
    sent = Blast.objects.filter(campaign=campaign, status=Blast.Status.SENT).count()
    yield DashboardFigure(_("Blasts sent"), sent, reverse("messaging_blasts"))
