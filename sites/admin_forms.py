"""Forms of the sites admin screens (the public forms are in sites/forms.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cocarde.tenancy.forms import CommuneCodesField
from sites.models import CampaignSite
from territory.models import Election
from themes.registry import theme_choices


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: CampaignSite) -> str:
        return f"{obj.site.site_name or obj.site.hostname} ({obj.site.hostname})"


class NewSiteForm(forms.Form):
    template = TemplateChoiceField(
        label=_("Template site"), queryset=CampaignSite.objects.none(), empty_label=None
    )
    candidate_name = forms.CharField(label=_("Candidate's name"), max_length=120)
    hostname = forms.CharField(
        label=_("Host name"),
        max_length=253,
        help_text=_("The address of the site, e.g. marie-dupont.example.fr"),
    )
    port = forms.IntegerField(label=_("Port"), initial=80, min_value=1, max_value=65535)
    campaign_slug = forms.SlugField(
        label=_("Campaign slug"), required=False, help_text=_("Defaults to the candidate's name.")
    )
    contact_email = forms.EmailField(label=_("Contact email"), required=False)
    commune_codes = CommuneCodesField(label=_("Communes (INSEE codes)"), required=False)
    commune_name = forms.CharField(
        label=_("Commune name(s)"),
        required=False,
        max_length=200,
        help_text=_("Replaces {{ commune }}."),
    )
    circonscription_code = forms.CharField(
        label=_("Circonscription"), required=False, max_length=6, help_text=_("e.g. 41-01")
    )
    circonscription_name = forms.CharField(
        label=_("Circonscription name"),
        required=False,
        max_length=200,
        help_text=_("Replaces {{ circonscription }}."),
    )
    election = forms.ModelChoiceField(
        label=_("Election"), queryset=Election.objects.all(), required=False
    )
    theme = forms.ChoiceField(
        label=_("Theme"), choices=(), widget=forms.RadioSelect, required=False
    )
    primary_colour = forms.CharField(
        label=_("Primary colour"), required=False, widget=forms.TextInput(attrs={"type": "color"})
    )
    secondary_colour = forms.CharField(
        label=_("Secondary colour"), required=False, widget=forms.TextInput(attrs={"type": "color"})
    )
    publish = forms.BooleanField(
        label=_("Publish the site now"),
        required=False,
        initial=True,
        help_text=_("Otherwise every page stays a draft."),
    )

    steps = (
        (
            _("Template and candidate"),
            ("template", "candidate_name", "hostname", "port", "campaign_slug", "contact_email"),
        ),
        (
            _("Territory and election"),
            (
                "commune_codes",
                "commune_name",
                "circonscription_code",
                "circonscription_name",
                "election",
            ),
        ),
        (
            _("Appearance and publication"),
            ("theme", "primary_colour", "secondary_colour", "publish"),
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = CampaignSite.objects.filter(
            is_template=True
        ).select_related("site")
        self.fields["theme"].choices = [("", _("Same as the template")), *theme_choices()]

    def fieldsets(self) -> list[tuple[Any, list[Any]]]:
        return [(title, [self[name] for name in names]) for title, names in self.steps]

    @classmethod
    def fields_up_to(cls, step: int) -> list[str]:
        return [name for _title, names in cls.steps[:step] for name in names]


class BulkCloneForm(forms.Form):
    template = TemplateChoiceField(
        label=_("Template site"), queryset=CampaignSite.objects.none(), empty_label=None
    )
    file = forms.FileField(
        label=_("Candidates (CSV)"),
        help_text=_(
            "One candidate per row. Columns: name, hostname (required); campaign_slug, port, "
            "theme, commune_codes, commune_name, circonscription_code, circonscription_name, "
            "contact_email, party_name, primary_colour, secondary_colour."
        ),
    )
    publish = forms.BooleanField(label=_("Publish the sites"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = CampaignSite.objects.filter(
            is_template=True
        ).select_related("site")
