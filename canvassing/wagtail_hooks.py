from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from canvassing import admin_urls
from cocarde.tenancy.dashboard import DashboardFigure, register_figures
from cocarde.tenancy.models import Campaign
from cocarde.tenancy.permissions import Capability, campaign_ids_for, can


@hooks.register("register_admin_urls")
def register_canvassing_urls() -> list[Any]:
    return [path("canvassing/", include(admin_urls))]


class FieldMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        ids = campaign_ids_for(request.user, Capability.PLAN_FIELD)
        return ids is None or bool(ids)


@hooks.register("register_admin_menu_item")
def register_canvassing_menu() -> MenuItem:
    return FieldMenuItem(
        _("Field campaigns"), reverse("canvassing_index"), icon_name="pick", order=170
    )


@register_figures
def field_figures(request: HttpRequest, campaign: Campaign) -> Iterator[DashboardFigure]:
    from canvassing.models import Visit

    if not can(request.user, Capability.PLAN_FIELD, campaign):
        return
    knocked = (
        Visit.objects.filter(
            door_campaign__campaign=campaign,
            status__in=[Visit.Status.APPLIED, Visit.Status.SUPERSEDED],
        )
        .values("door")
        .distinct()
        .count()
    )
    yield DashboardFigure(_("Doors knocked"), knocked, reverse("canvassing_index"))
