from typing import Any

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from territory.intelligence import urls
from territory.permissions import visible_campaigns


@hooks.register("register_admin_urls")
def register_intelligence_urls() -> list[Any]:
    return [path("", include(urls))]


class IntelligenceMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return visible_campaigns(request.user).exists()


@hooks.register("register_admin_menu_item")
def register_intelligence_menu() -> MenuItem:
    return IntelligenceMenuItem(
        _("Territory intelligence"), reverse("intelligence_index"), icon_name="pick", order=161
    )
