"""Admin forms for campaigns and their teams."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from cocarde.tenancy.models import Campaign, StaffRole
from cocarde.tenancy.permissions import Capability, campaigns_for, is_national_admin


class CommuneCodesField(forms.CharField):
    """INSEE codes typed as text ("41018, 41269") and stored as a list."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        text = super().to_python(value) or ""
        return [code.upper() for code in re.split(r"[\s,;]+", text) if code]


class CampaignForm(WagtailAdminModelForm):
    commune_codes = CommuneCodesField(
        label=_("Communes (INSEE codes)"),
        required=False,
        help_text=_("Separate codes with commas or spaces, e.g. 41018, 41269."),
    )

    class Meta:
        model = Campaign
        fields = [
            "name",
            "slug",
            "kind",
            "parent",
            "is_active",
            "commune_codes",
            "circonscription_code",
            "election",
            "legal_framework",
            "contact_email",
            "contact_phone",
            "legal_entity_name",
            "legal_address",
            "publication_director",
            "financial_agent_name",
            "financial_agent_address",
            "financial_agent_declared_on",
            "host_details",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not is_national_admin(self.for_user):
            # Only the national team decides what a campaign is and where it belongs.
            for name in ("slug", "kind", "parent", "is_active"):
                self.fields[name].disabled = True


class StaffRoleForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("A person without an account receives an email to choose a password."),
    )
    first_name = forms.CharField(label=_("First name"), required=False, max_length=150)
    last_name = forms.CharField(label=_("Last name"), required=False, max_length=150)
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=StaffRole.Role.choices)

    def __init__(self, *args: Any, for_user: Any, **kwargs: Any) -> None:
        kwargs.pop("instance", None)
        super().__init__(*args, **kwargs)
        self.for_user = for_user
        self.fields["campaign"].queryset = campaigns_for(for_user, Capability.MANAGE_CAMPAIGN)
        if not is_national_admin(for_user):
            self.fields["role"].choices = [
                choice
                for choice in StaffRole.Role.choices
                if choice[0] != StaffRole.Role.NATIONAL_ADMIN
            ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        campaign, role = data.get("campaign"), data.get("role")
        if campaign and role == StaffRole.Role.NATIONAL_ADMIN and not campaign.is_national:
            self.add_error("role", _("National admins belong to a national team."))
        return data
