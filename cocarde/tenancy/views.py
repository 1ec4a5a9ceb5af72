"""Admin screens for campaigns and their teams. Thin: decisions are in permissions, changes in
services. Every object lookup is scoped first, so another campaign's rows answer 404."""

from __future__ import annotations

from typing import Any

import django_filters
from allauth.account.forms import ResetPasswordForm
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.models import CreateView, DeleteView, EditView, IndexView
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet

from cocarde.tenancy import services
from cocarde.tenancy.admin_policies import StaffRolePermissionPolicy
from cocarde.tenancy.forms import CampaignForm, StaffRoleForm
from cocarde.tenancy.models import Campaign, StaffRole
from cocarde.tenancy.permissions import Capability, campaigns_for


class ScopedQuerysetMixin:
    """Views only ever load rows the permission policy lets this user see."""

    request: HttpRequest
    permission_policy: Any

    def get_base_queryset(self) -> QuerySet[Any]:
        return self.permission_policy.instances_user_has_any_permission_for(
            self.request.user, ["view"]
        )

    def get_queryset(self) -> QuerySet[Any]:
        return self.get_base_queryset()


class CampaignIndexView(ScopedQuerysetMixin, IndexView):
    pass


class CampaignEditView(ScopedQuerysetMixin, EditView):
    def get_base_queryset(self) -> QuerySet[Any]:
        return self.permission_policy.instances_user_has_any_permission_for(
            self.request.user, ["change"]
        )

    def save_instance(self) -> Campaign:
        changed = {name: self.form.cleaned_data[name] for name in self.form.changed_data}
        original = Campaign.objects.get(pk=self.object.pk)
        return services.update_campaign(original, actor=self.request.user, **changed)


class CampaignCreateView(CreateView):
    def save_instance(self) -> Campaign:
        data = dict(self.form.cleaned_data)
        return services.create_campaign(
            actor=self.request.user, name=data.pop("name"), slug=data.pop("slug"), **data
        )


class CampaignViewSet(ModelViewSet):
    model = Campaign
    form_fields = CampaignForm.Meta.fields
    icon = "flag"
    menu_label = gettext_lazy("Campaigns")
    menu_order = 150
    add_to_admin_menu = True
    list_display = ["name", "kind", "election", "circonscription_code", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "slug"]
    index_view_class = CampaignIndexView
    add_view_class = CampaignCreateView
    edit_view_class = CampaignEditView
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update: bool = False) -> type[CampaignForm]:
        return CampaignForm


def _managed_campaigns(request: HttpRequest | None) -> QuerySet[Campaign]:
    if request is None:
        return Campaign.objects.none()
    return campaigns_for(request.user, Capability.MANAGE_CAMPAIGN)


class StaffRoleFilterSet(WagtailFilterSet):
    # The choices themselves are scoped: a filter must not list other campaigns' names.
    campaign = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Campaign"), queryset=_managed_campaigns
    )

    class Meta:
        model = StaffRole
        fields = ["role", "campaign"]


class StaffRoleIndexView(ScopedQuerysetMixin, IndexView):
    def get_base_queryset(self) -> QuerySet[Any]:
        return super().get_base_queryset().select_related("user", "campaign")


class StaffRoleDeleteView(ScopedQuerysetMixin, DeleteView):
    def get_object(self, queryset: QuerySet[Any] | None = None) -> StaffRole:
        role = super().get_object(queryset)
        if not self.user_has_permission_for_instance("delete", role):
            raise PermissionDenied
        return role

    def delete_action(self) -> None:
        role = self.object
        services.revoke_role(role.user, role.campaign, role.role, actor=self.request.user)


class StaffRoleCreateView(PermissionCheckedMixin, WagtailAdminTemplateMixin, FormView):
    """Grant a role, inviting the person by email when they have no account yet."""

    model = StaffRole
    permission_required = "add"
    form_class = StaffRoleForm
    template_name = "tenancy/staffrole_form.html"
    page_title = gettext_lazy("Add a team member")
    header_icon = "user"
    permission_policy = StaffRolePermissionPolicy()

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "for_user": self.request.user}

    def form_valid(self, form: StaffRoleForm) -> HttpResponse:
        data = form.cleaned_data
        user, invited = services.add_team_member(
            data["email"],
            data["campaign"],
            data["role"],
            actor=self.request.user,
            first_name=data["first_name"],
            last_name=data["last_name"],
        )
        if invited:
            # After the commit above: the invitation links to an account that exists.
            reset = ResetPasswordForm(data={"email": user.email})
            if reset.is_valid():
                reset.save(self.request)
            messages.success(
                self.request,
                _("%(email)s was invited: they received an email to choose a password.")
                % {"email": user.email},
            )
        else:
            messages.success(self.request, _("Role granted to %(email)s.") % {"email": user.email})
        return redirect(reverse("staffrole:index"))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "action_url": reverse("staffrole:add")}


class StaffRoleViewSet(ModelViewSet):
    """Who holds which role in which campaign. Roles are granted or revoked, never edited."""

    model = StaffRole
    name = "staffrole"
    icon = "group"
    menu_label = gettext_lazy("Teams")
    menu_order = 151
    add_to_admin_menu = True
    list_display = ["user", "campaign", "role", "granted_at"]
    filterset_class = StaffRoleFilterSet
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    form_fields = ["user", "campaign", "role"]
    index_view_class = StaffRoleIndexView
    delete_view_class = StaffRoleDeleteView
    copy_view_enabled = False
    inspect_view_enabled = False

    @property
    def add_view(self) -> Any:  # type: ignore[override]
        return StaffRoleCreateView.as_view()

    # No edit view: changing a role is revoking one and granting another, both audited.
    def get_urlpatterns(self) -> list[Any]:
        return [p for p in super().get_urlpatterns() if getattr(p, "name", "") != "edit"]

    def get_index_view_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_index_view_kwargs(**kwargs), "edit_url_name": None}
