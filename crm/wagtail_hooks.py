"""The CRM in the Wagtail admin: menu, URLs, tag and custom-field screens, dashboard figures."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import BasePermissionPolicy
from wagtail.permissions import register_permission_policy

from cocarde.tenancy.dashboard import DashboardFigure, register_figures
from cocarde.tenancy.models import Campaign
from cocarde.tenancy.permissions import Capability, campaign_ids_for, campaigns_for
from cocarde.tenancy.views import ScopedQuerysetMixin
from crm import admin_urls
from crm.models import CampaignAttachment, CustomField, Tag


class CapabilityMenuItem(MenuItem):
    """Shown only to users holding the capability for at least one campaign."""

    def __init__(self, *args: Any, capability: Capability, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capability = capability

    def is_shown(self, request: HttpRequest) -> bool:
        ids = campaign_ids_for(request.user, self.capability)
        return ids is None or bool(ids)


class CrmSubmenu(SubmenuMenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        ids = campaign_ids_for(request.user, Capability.VIEW_PEOPLE)
        return ids is None or bool(ids)


@hooks.register("register_admin_urls")
def register_crm_urls() -> list[Any]:
    from crm.imports import admin_urls as import_urls
    from crm.segments import urls as segment_urls

    return [
        path("crm/imports/", include(import_urls)),
        path("crm/segments/", include(segment_urls)),
        path("crm/", include(admin_urls)),
    ]


class CampaignOwnedPolicy(BasePermissionPolicy):
    """Tags and custom fields: a campaign's staff manage their campaign's; national ones
    (no campaign) belong to national admins."""

    def _ids(self, user: Any) -> set[int] | None:
        return campaign_ids_for(user, Capability.EDIT_PEOPLE)

    def user_has_permission(self, user: Any, action: str) -> bool:
        ids = self._ids(user)
        return ids is None or bool(ids)

    def user_has_permission_for_instance(self, user: Any, action: str, instance: Any) -> bool:
        ids = self._ids(user)
        if ids is None:
            return True
        if instance.campaign_id is None:
            return action == "view"
        return instance.campaign_id in ids

    def instances_user_has_any_permission_for(
        self, user: Any, actions: Iterable[str]
    ) -> QuerySet[Any]:
        ids = self._ids(user)
        rows = self.model._default_manager.all()
        if ids is None:
            return rows
        if set(actions) <= {"view"}:
            return rows.filter(Q(campaign__isnull=True) | Q(campaign_id__in=ids))
        return rows.filter(campaign_id__in=ids)

    def users_with_any_permission(self, actions: Iterable[str]) -> QuerySet[Any]:
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(staff_roles__isnull=False).distinct()


class ScopedFormMixin:
    """The campaign choice lists only the user's campaigns; only national admins leave it empty."""

    request: HttpRequest

    def get_form(self, *args: Any, **kwargs: Any) -> Any:
        form = super().get_form(*args, **kwargs)  # type: ignore[misc]
        ids = campaign_ids_for(self.request.user, Capability.EDIT_PEOPLE)
        if "campaign" in form.fields:
            form.fields["campaign"].queryset = campaigns_for(
                self.request.user, Capability.EDIT_PEOPLE
            )
            form.fields["campaign"].required = ids is not None
        return form


class ScopedIndexMixin(ScopedQuerysetMixin):
    pass


def _scoped_views(viewset: ModelViewSet) -> None:
    from wagtail.admin.views.generic.models import CreateView, DeleteView, EditView, IndexView

    viewset.index_view_class = type("Index", (ScopedQuerysetMixin, IndexView), {})
    viewset.add_view_class = type("Create", (ScopedFormMixin, CreateView), {})
    viewset.edit_view_class = type(
        "Edit",
        (ScopedFormMixin, ScopedQuerysetMixin, EditView),
        {
            "get_base_queryset": lambda self: (
                self.permission_policy.instances_user_has_any_permission_for(
                    self.request.user, ["change"]
                )
            )
        },
    )
    viewset.delete_view_class = type(
        "Delete",
        (ScopedQuerysetMixin, DeleteView),
        {
            "get_base_queryset": lambda self: (
                self.permission_policy.instances_user_has_any_permission_for(
                    self.request.user, ["delete"]
                )
            )
        },
    )


class TagViewSet(ModelViewSet):
    model = Tag
    icon = "tag"
    menu_label = _("Tags")
    add_to_admin_menu = False
    form_fields = ["name", "slug", "campaign"]
    list_display = ["name", "campaign"]
    search_fields = ["name"]
    copy_view_enabled = False
    inspect_view_enabled = False


class CustomFieldViewSet(ModelViewSet):
    model = CustomField
    icon = "form"
    menu_label = _("Custom fields")
    add_to_admin_menu = False
    form_fields = ["label", "key", "type", "choices", "is_sensitive", "campaign"]
    list_display = ["label", "key", "type", "campaign", "is_sensitive"]
    search_fields = ["label", "key"]
    copy_view_enabled = False
    inspect_view_enabled = False


tag_viewset = TagViewSet("crm_tag")
custom_field_viewset = CustomFieldViewSet("crm_customfield")
for _viewset in (tag_viewset, custom_field_viewset):
    _scoped_views(_viewset)
register_permission_policy(Tag, CampaignOwnedPolicy(Tag))
register_permission_policy(CustomField, CampaignOwnedPolicy(CustomField))


@hooks.register("register_admin_viewset")
def register_crm_viewsets() -> list[ModelViewSet]:
    return [tag_viewset, custom_field_viewset]


@hooks.register("register_admin_menu_item")
def register_crm_menu() -> MenuItem:
    items = [
        CapabilityMenuItem(
            _("People"),
            reverse("crm_people"),
            icon_name="group",
            order=1,
            capability=Capability.VIEW_PEOPLE,
        ),
        CapabilityMenuItem(
            _("Segments"),
            reverse("crm_segments"),
            icon_name="crosshairs",
            order=2,
            capability=Capability.VIEW_PEOPLE,
        ),
        CapabilityMenuItem(
            _("Possible duplicates"),
            reverse("crm_duplicates"),
            icon_name="resubmit",
            order=2,
            capability=Capability.EDIT_PEOPLE,
        ),
        CapabilityMenuItem(
            _("Merge history"),
            reverse("crm_merges"),
            icon_name="history",
            order=3,
            capability=Capability.EDIT_PEOPLE,
        ),
        CapabilityMenuItem(
            _("Imports"),
            reverse("crm_imports"),
            icon_name="upload",
            order=4,
            capability=Capability.IMPORT_PEOPLE,
        ),
        CapabilityMenuItem(
            _("Tags"),
            reverse("crm_tag:index"),
            icon_name="tag",
            order=4,
            capability=Capability.EDIT_PEOPLE,
        ),
        CapabilityMenuItem(
            _("Custom fields"),
            reverse("crm_customfield:index"),
            icon_name="form",
            order=5,
            capability=Capability.EDIT_PEOPLE,
        ),
        CapabilityMenuItem(
            _("Retention"),
            reverse("crm_retention"),
            icon_name="time",
            order=6,
            capability=Capability.MANAGE_CAMPAIGN,
        ),
    ]
    return CrmSubmenu(_("People"), Menu(items=items), icon_name="group", order=140)


@register_figures
def people_figures(request: HttpRequest, campaign: Campaign) -> Iterator[DashboardFigure]:
    from cocarde.tenancy.permissions import can

    if not can(request.user, Capability.VIEW_PEOPLE, campaign):
        return
    count = CampaignAttachment.objects.filter(campaign=campaign).values("person").distinct().count()
    yield DashboardFigure(_("People"), count, f"{reverse('crm_people')}?campaign={campaign.pk}")
