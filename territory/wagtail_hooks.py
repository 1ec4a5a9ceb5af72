from typing import Any

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from territory import urls
from territory.permissions import visible_campaigns


@hooks.register("register_admin_urls")
def register_territory_urls() -> list[Any]:
    return [path("", include(urls))]


class TerritoryMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return visible_campaigns(request.user).exists()


@hooks.register("register_admin_menu_item")
def register_territory_menu() -> MenuItem:
    return TerritoryMenuItem(
        _("Territory map"), reverse("territory_map"), icon_name="site", order=160
    )


class TerritoryImportsMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        from territory.services.imports import may_import

        return may_import(request.user)


@hooks.register("register_admin_menu_item")
def register_territory_imports_menu() -> MenuItem:
    return TerritoryImportsMenuItem(
        _("Territory imports"), reverse("territory_imports"), icon_name="upload", order=161
    )
