"""Admin wiring of candidate sites: permission policies, menu, screens and page buttons."""

from __future__ import annotations

from typing import Any

from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.widgets import Button
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import AbstractPage, Site
from wagtail.permissions import register_permission_policy

from cocarde.tenancy.permissions import Capability, campaign_ids_for, is_national_admin
from sites import urls
from sites.permissions import (
    CampaignMediaPermissionPolicy,
    CampaignPagePermissionPolicy,
    NationalAdminPolicy,
)

# Page and media permissions come from campaign roles (see sites/permissions.py).
register_permission_policy(AbstractPage, CampaignPagePermissionPolicy())
register_permission_policy(Site, NationalAdminPolicy(Site))


def register_media_policies() -> None:
    """Images and documents: wagtail.images and wagtail.documents register their policies in
    their AppConfig.ready(), which runs after this module may have been imported, so ours are
    registered when the admin URLs load, once every app is ready."""
    for model in (get_image_model(), get_document_model()):
        register_permission_policy(
            model,
            CampaignMediaPermissionPolicy(
                model, auth_model=model, owner_field_name="uploaded_by_user"
            ),
        )


@hooks.register("register_admin_urls")
def register_admin_urls() -> list[Any]:
    register_media_policies()
    return [path("candidate-sites/", include((urls, "sites_admin"), namespace="sites_admin"))]


class NationalMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return is_national_admin(request.user)


class SiteEditorMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return campaign_ids_for(request.user, Capability.EDIT_SITE) != set()


class PeopleMenuItem(MenuItem):
    def is_shown(self, request: Any) -> bool:
        return campaign_ids_for(request.user, Capability.VIEW_PEOPLE) != set()


@hooks.register("register_admin_menu_item")
def register_sites_menu() -> Any:
    from wagtail.admin.menu import Menu, SubmenuMenuItem

    menu = Menu(
        items=[
            NationalMenuItem(
                _("New candidate site"), reverse("sites_admin:new_site"), icon_name="plus", order=10
            ),
            NationalMenuItem(
                _("Clone from a CSV file"),
                reverse("sites_admin:bulk_clone"),
                icon_name="upload",
                order=20,
            ),
            NationalMenuItem(
                _("Template sync"), reverse("sites_admin:sync_runs"), icon_name="resubmit", order=30
            ),
            SiteEditorMenuItem(
                _("Pages to review"),
                reverse("sites_admin:conflicts"),
                icon_name="warning",
                order=40,
            ),
            PeopleMenuItem(
                _("Form answers"), reverse("sites_admin:submissions"), icon_name="form", order=50
            ),
        ]
    )
    return SubmenuMenuItem(_("Candidate sites"), menu, icon_name="site", order=140)


@hooks.register("register_page_header_buttons")
def template_page_buttons(page: Any, user: Any, view_name: str, next_url: str | None = None) -> Any:
    if not is_national_admin(user) or page.depth < 2:
        return
    from sites.services.sync import is_synchronised, template_site_of

    if template_site_of(page) is None:
        return
    action = "unmark" if is_synchronised(page) else "mark"
    label = (
        _("Stop synchronising with clones") if action == "unmark" else _("Synchronise with clones")
    )
    yield Button(
        label,
        reverse("sites_admin:page_action", args=[page.pk, action]),
        icon_name="resubmit",
        priority=80,
    )
    if page.depth > 2:
        yield Button(
            _("Push to every clone"),
            reverse("sites_admin:page_action", args=[page.pk, "push"]),
            icon_name="upload",
            priority=81,
        )


@hooks.register("construct_page_chooser_queryset")
def scope_page_chooser(pages: Any, request: Any) -> Any:
    """Wagtail's page chooser browses every site (wagtail#1700); campaign staff see only
    their own site's pages, so no other campaign's page is ever listed to them."""
    from django.db.models import Q
    from wagtail.models import Site

    from sites.permissions import editable_site_ids

    site_ids = editable_site_ids(request.user)
    if site_ids is None:
        return pages
    roots = Site.objects.filter(pk__in=site_ids).values_list("root_page__path", flat=True)
    allowed = Q(pk__in=[])
    for root_path in roots:
        allowed |= Q(path__startswith=root_path)
    return pages.filter(allowed)
