"""Admin forms of territory intelligence: import a layer, set up a forecast, study transfers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from territory.intelligence.models import Forecast, Layer
from territory.models import Election, ElectionRound

MAX_UPLOAD = 20 * 1024 * 1024


class LayerImportForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(
        attrs={"rows": 2}))  # fmt: skip
    color = forms.RegexField(label=_("Colour"), regex=r"^#[0-9a-fA-F]{6}$", initial="#6a3d9a",
                             widget=forms.TextInput(attrs={"type": "color"}))  # fmt: skip
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV with addresses (adresse, or numero, voie, code_postal, commune) or coordinates "
            "(lat, lon); or GeoJSON with points or areas. Importing a layer of the same name "
            "replaces it."
        ),
    )
    national = forms.BooleanField(label=_("National layer (every campaign sees it)"),
                                  required=False)  # fmt: skip

    def __init__(self, *args: Any, may_publish_nationally: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_publish_nationally:
            del self.fields["national"]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload


class ForecastForm(forms.ModelForm):
    nuances = forms.MultipleChoiceField(
        label=_("Nuances whose share is forecast (a bloc)"), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    candidate_names = forms.CharField(
        label=_("Candidates or lists whose share is forecast"), required=False,
        help_text=_("Last names or list keys as in the results files, separated by commas."),
    )  # fmt: skip
    reachable_percent = forms.FloatField(
        label=_("Share of abstainers we can reach (%)"), min_value=0.1, max_value=100, initial=10
    )
    expected_turnout_percent = forms.FloatField(
        label=_("Expected overall turnout (%), optional"), min_value=1, max_value=100,
        required=False,
        help_text=_("Leave empty to extrapolate the past comparable elections."),
    )  # fmt: skip

    class Meta:
        model = Forecast
        fields = ["name", "election_kind", "round_number", "use_insee", "layers",
                  "use_field_results", "lean_weighted"]  # fmt: skip
        widgets = {"layers": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, layers: Any, nuances: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["election_kind"] = forms.ChoiceField(
            label=_("Upcoming election"), choices=Election.Kind.choices
        )
        self.fields["layers"].queryset = layers
        self.fields["layers"].required = False
        self.fields["nuances"].choices = [(n, n) for n in nuances]
        instance = self.instance
        if instance.pk:
            self.initial.setdefault("nuances", instance.nuances)
            self.initial.setdefault("candidate_names", ", ".join(instance.candidate_names))
            self.initial.setdefault("reachable_percent", round(instance.reachable_share * 100, 2))
            if instance.expected_turnout is not None:
                self.initial.setdefault(
                    "expected_turnout_percent", round(instance.expected_turnout * 100, 2)
                )

    def save(self, commit: bool = True) -> Forecast:
        forecast: Forecast = super().save(commit=False)
        data = self.cleaned_data
        forecast.nuances = list(data.get("nuances") or [])
        forecast.candidate_names = [
            n.strip() for n in (data.get("candidate_names") or "").split(",") if n.strip()
        ]
        forecast.reachable_share = data["reachable_percent"] / 100
        expected = data.get("expected_turnout_percent")
        forecast.expected_turnout = expected / 100 if expected else None
        if commit:
            forecast.save()
            self.save_m2m()
        return forecast


class TransferForm(forms.Form):
    source_round = forms.TypedChoiceField(label=_("From"), coerce=int)
    target_round = forms.TypedChoiceField(label=_("To"), coerce=int)

    def __init__(self, *args: Any, rounds: Sequence[ElectionRound], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(r.pk, r.label) for r in rounds]
        self.fields["source_round"].choices = choices
        self.fields["target_round"].choices = choices
        self.rounds = {r.pk: r for r in rounds}
        if len(rounds) >= 2:
            self.fields["source_round"].initial = rounds[1].pk
            self.fields["target_round"].initial = rounds[0].pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("source_round") and data.get("source_round") == data.get("target_round"):
            raise forms.ValidationError(_("Choose two different rounds."))
        return data


__all__ = ["ForecastForm", "Layer", "LayerImportForm", "TransferForm"]
