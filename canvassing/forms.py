"""Staff forms of the field campaigns (Wagtail admin). Choices are scoped to the user."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from canvassing.models import DoorCampaign, PhoneCampaign
from canvassing.services import canvassers_of, validate_survey
from cocarde.tenancy.permissions import Capability, campaigns_for
from crm.segments.selectors import segments_for
from territory.models import Zone
from territory.selectors import campaign_bureaux

SURVEY_HELP = _(
    'JSON list of questions: {"key": "priority", "label": "Your priority?", "type": '
    '"choice", "choices": ["Schools", "Transport"]}; types yes_no, scale, choice, text; '
    'branching with "show_if": {"question": "key", "equals": value}.'
)


class JSONListField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 6, "spellcheck": "false"})

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return []
        try:
            data = json.loads(value)
        except ValueError as error:
            raise ValidationError(_("Not valid JSON: %(error)s") % {"error": error}) from error
        if not isinstance(data, list):
            raise ValidationError(_("Expected a list."))
        return data

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return json.dumps(value, ensure_ascii=False, indent=1)
        return value


class DoorCampaignForm(forms.ModelForm):
    survey = JSONListField(label=_("Survey script"), required=False, help_text=SURVEY_HELP)
    area = JSONListField(
        label=_("Area"),
        required=False,
        help_text=_('Click on the map to draw it, or give [{"lat": …, "lon": …}, …].'),
    )

    class Meta:
        model = DoorCampaign
        fields = [
            "campaign",
            "name",
            "target_kind",
            "segment",
            "bureaux",
            "area",
            "starts_on",
            "ends_on",
            "instructions",
            "survey",
            "consent_text",
            "minutes_per_door",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "bureaux": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        campaigns = campaigns_for(user, Capability.PLAN_FIELD)
        self.fields["campaign"].queryset = campaigns
        self.fields["segment"].queryset = segments_for(user).filter(campaign__in=campaigns)
        bureaux = Zone.objects.none()
        for campaign in campaigns[:20]:
            bureaux = bureaux | campaign_bureaux(campaign)
        self.fields["bureaux"].queryset = bureaux.order_by("code")

    def clean_survey(self) -> Any:
        return validate_survey(self.cleaned_data.get("survey") or [])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("target_kind")
        campaign = data.get("campaign")
        if kind == DoorCampaign.TargetKind.SEGMENT and not data.get("segment"):
            self.add_error("segment", _("Choose the segment to canvass."))
        if data.get("segment") and campaign and data["segment"].campaign_id != campaign.pk:
            self.add_error("segment", _("This segment belongs to another campaign."))
        if kind == DoorCampaign.TargetKind.BUREAUX and not data.get("bureaux"):
            self.add_error("bureaux", _("Choose at least one polling station."))
        if kind == DoorCampaign.TargetKind.AREA and len(data.get("area") or []) < 3:
            self.add_error("area", _("Draw an area of at least three points."))
        return data


class CutForm(forms.Form):
    doors_per_turf = forms.IntegerField(label=_("Doors per turf"), min_value=2, required=False)
    hours_per_turf = forms.FloatField(
        label=_("or hours per turf"),
        min_value=0.25,
        required=False,
        help_text=_("1.5 min per door plus walking at 1 m/s."),
    )
    respect_bureaux = forms.BooleanField(
        label=_("Never cross a polling station boundary"), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("doors_per_turf") and not data.get("hours_per_turf"):
            raise ValidationError(_("Give a number of doors or of hours per turf."))
        return data


class AssignForm(forms.Form):
    canvassers = forms.ModelMultipleChoiceField(
        label=_("Canvassers (one or a pair)"), queryset=None
    )
    expires_at = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args: Any, campaign: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["canvassers"].queryset = canvassers_of(campaign)


class PhoneCampaignForm(forms.ModelForm):
    survey = JSONListField(label=_("Script"), required=False, help_text=SURVEY_HELP)

    class Meta:
        model = PhoneCampaign
        fields = [
            "campaign",
            "name",
            "segment",
            "instructions",
            "survey",
            "claim_minutes",
            "starts_on",
            "ends_on",
            "callers",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
            "callers": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        campaigns = campaigns_for(user, Capability.PLAN_FIELD)
        self.fields["campaign"].queryset = campaigns
        self.fields["segment"].queryset = segments_for(user).filter(campaign__in=campaigns)
        from django.contrib.auth import get_user_model

        callers = get_user_model().objects.none()
        for campaign in campaigns[:20]:
            callers = callers | canvassers_of(campaign)
        self.fields["callers"].queryset = callers.distinct()

    def clean_survey(self) -> Any:
        return validate_survey(self.cleaned_data.get("survey") or [])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        campaign, segment = data.get("campaign"), data.get("segment")
        if segment and campaign and segment.campaign_id != campaign.pk:
            self.add_error("segment", _("This segment belongs to another campaign."))
        return data
