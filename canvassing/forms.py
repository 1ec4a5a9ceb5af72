"""Staff forms of the field campaigns (Wagtail admin). Choices are scoped to the user."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from canvassing.models import DoorCampaign, PhoneCampaign, QuestionType
from canvassing.services import canvassers_of
from canvassing.surveys import validate_survey
from cocarde.tenancy.permissions import Capability, campaigns_for
from crm.segments.selectors import segments_for
from territory.models import Zone
from territory.selectors import campaign_bureaux

SURVEY_HELP = _(
    "Add the questions in the order they are asked. A question can be shown only after a "
    "given answer to an earlier one (for example “Why not?” only if “Will you vote?” is No). "
    "Each question has a key that names its answers in exports: keep it once answers come in. "
    'Without JavaScript, write the script as a JSON list: {"key": "priority", "label": "Your '
    'priority?", "type": "choice", "choices": ["Schools", "Transport"]}; types yes_no, scale '
    '(1 to 5), choice, text; branching with "show_if": {"question": "key", "equals": value}.'
)


def survey_builder_labels() -> dict[str, str]:
    """The survey builder's words, in the active language (survey-builder.js has no text)."""
    return {
        "builder": _("Survey questions"),
        "empty": _("No question yet."),
        "question": _("Question {n}"),
        "label": _("Question asked"),
        "type": _("Type of answer"),
        "choices": _("Possible answers (one per line)"),
        "scale": _("Answered from 1 to 5."),
        "condition": _("Show only if"),
        "always": _("— always shown —"),
        "equals": _("is"),
        "choose": _("choose an answer"),
        "yes": _("Yes"),
        "no": _("No"),
        "advanced": _("Advanced"),
        "key": _("Key"),
        "key_help": _(
            "Names the answers in exports. Lowercase letters, digits and _, starting with a letter."
        ),
        "move_up": _("Move up"),
        "move_down": _("Move down"),
        "delete": _("Delete"),
        "add": _("Add a question"),
        "added": _("Question {n} added."),
        "moved": _("Question moved to position {n}."),
        "deleted": _("Question deleted."),
        "unlinked": _("The questions that depended on it are now always shown."),
        "warn_label": _("Write the question."),
        "warn_choices": _("Give at least two answers."),
        "warn_key": _(
            "Give a unique key: lowercase letters, digits and _, starting with a letter."
        ),
        "warn_order": _(
            "This question depends on a question that is no longer before it: move it lower "
            "or change the condition."
        ),
        "warn_value": _("Choose the answer that shows this question."),
        "unreadable": _(
            "The builder cannot read this script: correct the JSON below, or empty it to start "
            "again with the builder."
        ),
    }


class SurveyBuilderWidget(forms.Textarea):
    """The survey script's JSON textarea, which survey-builder.js hides behind question cards
    and keeps filled; without JavaScript, the textarea itself. The question types and the
    builder's words come from here, translated; validate_survey judges the result."""

    template_name = "canvassing/widgets/survey_builder.html"

    def __init__(self) -> None:
        super().__init__(attrs={"rows": 8, "spellcheck": "false", "data-survey-source": ""})

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["builder"] = {
            "types": [[kind.value, str(kind.label)] for kind in QuestionType],
            "labels": {key: str(text) for key, text in survey_builder_labels().items()},
        }
        context["widget"]["builder_id"] = f"{context['widget']['attrs'].get('id', name)}-builder"
        return context


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
    survey = JSONListField(
        label=_("Survey script"),
        required=False,
        help_text=SURVEY_HELP,
        widget=SurveyBuilderWidget(),
    )
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
        # An existing campaign keeps its owner: its doors and results belong to it.
        self.fields["campaign"].disabled = bool(self.instance.pk)
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
    survey = JSONListField(
        label=_("Script"), required=False, help_text=SURVEY_HELP, widget=SurveyBuilderWidget()
    )

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
        self.fields["campaign"].disabled = bool(self.instance.pk)  # never moved to another
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
