"""Forms of the segment screens, and a field other apps use to choose a segment."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cocarde.tenancy.models import Campaign
from crm.models import Segment, Tag


class SegmentChoiceField(forms.ModelChoiceField):
    """Choose a segment or list, e.g. a blast's audience or a canvassing campaign's target:

    audience = SegmentChoiceField(queryset=segments_for(user, campaign=campaign))
    """

    def label_from_instance(self, obj: Any) -> str:
        count = f" · {obj.last_count}" if obj.last_count is not None else ""
        return f"{obj.name} ({obj.get_kind_display().lower()}{count})"


class SegmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none())
    criteria = forms.JSONField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns


class FreezeForm(forms.Form):
    name = forms.CharField(label=_("Name of the list"), max_length=150, required=False)


class SplitForm(forms.Form):
    parts = forms.CharField(
        label=_("Parts"),
        initial="2",
        max_length=60,
        help_text=_("A number of equal parts (2 to 10), or percentages such as 10, 90."),
    )
    seed = forms.CharField(
        label=_("Seed"),
        required=False,
        max_length=40,
        help_text=_("Optional: the same seed gives the same split."),
    )

    def clean_parts(self) -> int | list[int]:
        text = self.cleaned_data["parts"].strip()
        if text.isdigit():
            return int(text)
        numbers = [p for p in re.split(r"[\s,;/%]+", text) if p]
        if not numbers or not all(n.isdigit() for n in numbers):
            raise ValidationError(_("Enter a number of parts or percentages such as 10, 90."))
        return [int(n) for n in numbers]


class BatchForm(forms.Form):
    ACTIONS = [
        ("tag", _("Tag")),
        ("untag", _("Remove a tag")),
        ("list", _("Add to a list")),
        ("point_person", _("Set the point person")),
    ]
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    tags = forms.CharField(
        label=_("Tags to add"),
        required=False,
        max_length=300,
        help_text=_("Separate tags with commas."),
    )
    tag = forms.ModelChoiceField(
        label=_("Tag to remove"), queryset=Tag.objects.none(), required=False
    )
    target = forms.ModelChoiceField(
        label=_("List"), queryset=Segment.objects.none(), required=False
    )
    new_list = forms.CharField(label=_("or a new list named"), max_length=150, required=False)
    point_person = forms.ChoiceField(label=_("Point person"), required=False)

    def __init__(
        self, *args: Any, tags: Any, lists: Any, team: list[tuple[Any, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = tags
        self.fields["target"].queryset = lists
        self.fields["point_person"].choices = [("", _("Nobody")), *team]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action == "tag" and not (data.get("tags") or "").strip():
            self.add_error("tags", _("Give at least one tag."))
        if action == "untag" and not data.get("tag"):
            self.add_error("tag", _("Choose the tag to remove."))
        if action == "list" and not data.get("target") and not (data.get("new_list") or "").strip():
            self.add_error("target", _("Choose a list or name a new one."))
        return data
