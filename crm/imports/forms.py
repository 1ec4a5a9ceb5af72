"""Forms of the import screens: upload (with the legal basis of the source) and mapping."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cocarde.tenancy.models import Campaign
from crm.imports.columns import FIELDS
from crm.models import Channel, ImportFormat, LegalBasis

MAX_UPLOAD = 500 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "Electoral roll (REU export or 2013 layout), members file or any table: "
            "CSV (any encoding and separator), XLSX or ODS."
        ),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.none(),
        help_text=_("The people become visible to this campaign."),
    )
    requested_format = forms.ChoiceField(
        label=_("Format"), choices=ImportFormat.choices, initial=ImportFormat.AUTO
    )
    legal_basis = forms.ChoiceField(
        label=_("Where these people come from"),
        choices=[("", _("Detect (roll or members file)")), *LegalBasis.choices],
        required=False,
        help_text=_("Recorded with the import. A roll gives no email or SMS consent."),
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=300,
        help_text=_("Given to every imported person; separate tags with commas."),
    )
    consent_channels = forms.MultipleChoiceField(
        label=_("They consented to"),
        choices=[(Channel.EMAIL, Channel.EMAIL.label), (Channel.SMS, Channel.SMS.label)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent_text = forms.CharField(
        label=_("Exact consent text they were shown"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    external_id_source = forms.SlugField(
        label=_("Source of the id column"),
        initial="members",
        max_length=60,
        help_text=_("The same id from the same source always finds the same person."),
    )

    def __init__(self, *args: Any, campaigns: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 500 MB."))
        return upload

    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data.get("tags", "").split(",") if t.strip()]


class MappingForm(forms.Form):
    """One choice per column of the file, suggested from its header."""

    save_as = forms.CharField(
        label=_("Save this mapping as"),
        required=False,
        max_length=150,
        help_text=_("Files with the same columns will be mapped the same way."),
    )

    def __init__(
        self, *args: Any, headers: list[str], samples: list[list[str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("— ignore —")), *[(f.name, f.label) for f in FIELDS]]
        self.columns = []
        for index, header in enumerate(headers):
            name = f"col_{index}"
            examples = ", ".join(s[index] for s in samples if index < len(s) and s[index])[:80]
            self.fields[name] = forms.ChoiceField(
                label=header or _("Column %(n)s") % {"n": index + 1},
                choices=choices,
                required=False,
                help_text=examples,
            )
            self.columns.append(name)
        self.order_fields([*self.columns, "save_as"])

    def mapping(self) -> dict[str, str]:
        return {
            name.removeprefix("col_"): self.cleaned_data[name]
            for name in self.columns
            if self.cleaned_data.get(name)
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = [data.get(name) for name in self.columns if data.get(name)]
        duplicated = {f for f in chosen if chosen.count(f) > 1}
        if duplicated:
            raise forms.ValidationError(_("Each field can take one column only."))
        if not chosen:
            raise forms.ValidationError(_("Map at least one column."))
        return data
