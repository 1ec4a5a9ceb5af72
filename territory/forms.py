"""The targeting settings form: which round, whose share, how much each term weighs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from territory.models import Candidacy, ElectionRound
from territory.targeting import ScoreSettings


class TargetingForm(forms.Form):
    round = forms.TypedChoiceField(label=_("Round"), coerce=int)
    candidacies = forms.TypedMultipleChoiceField(
        label=_("Candidates whose share counts"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    nuances = forms.MultipleChoiceField(
        label=_("Nuances whose share counts"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    weight_abstention = forms.FloatField(
        label=_("Weight of abstention"), min_value=0, max_value=10, initial=1.0
    )
    weight_share = forms.FloatField(
        label=_("Weight of the chosen share"), min_value=0, max_value=10, initial=1.0
    )
    weight_contacts = forms.FloatField(
        label=_("Weight of our contacts (untapped potential)"), min_value=0, max_value=10,
        initial=0.5,
    )  # fmt: skip

    extra_indicator = forms.ChoiceField(label=_("Also weigh"), required=False)
    weight_extra = forms.FloatField(
        label=_("Weight of that indicator"), min_value=0, max_value=10, initial=1.0,
        required=False,
    )  # fmt: skip

    def __init__(
        self,
        data: Any = None,
        *,
        rounds: Sequence[ElectionRound],
        bureau_ids: Sequence[int],
        extra_choices: Sequence[tuple[str, Any]] = (),
    ) -> None:
        super().__init__(data)
        self.fields["extra_indicator"].choices = [("", "—"), *extra_choices]
        if not extra_choices:
            del self.fields["extra_indicator"], self.fields["weight_extra"]
        self.rounds = list(rounds)
        self.fields["round"].choices = [(r.pk, r.label) for r in self.rounds]
        if self.rounds:
            self.fields["round"].initial = self.rounds[0].pk
        candidacies = (
            Candidacy.objects.filter(round__in=self.rounds, votes__result__bureau_id__in=bureau_ids)
            .distinct()
            .order_by("round_id", "panel_number", "last_name")
        )
        self.round_of = {c.pk: c.round_id for c in candidacies}
        self.fields["candidacies"].choices = [
            (c.pk, f"{c.display_name}{f' ({c.nuance})' if c.nuance else ''} · {c.round.label}")
            for c in candidacies.select_related("round__election")
        ]
        nuances = sorted({c.nuance for c in candidacies if c.nuance})
        self.fields["nuances"].choices = [(n, n) for n in nuances]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        round_id = data.get("round")
        wrong = [c for c in data.get("candidacies", []) if self.round_of.get(c) != round_id]
        if wrong:
            self.add_error("candidacies", _("Choose candidates of the selected round."))
        return data

    def score_settings(self) -> ScoreSettings | None:
        """The settings asked for; the defaults (latest round) when the form was not sent;
        None when there is no round or the form is invalid."""
        if not self.rounds:
            return None
        if not self.is_bound:
            return ScoreSettings(round_id=self.rounds[0].pk)
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return ScoreSettings(
            round_id=data["round"],
            candidacy_ids=tuple(data.get("candidacies") or ()),
            nuances=tuple(data.get("nuances") or ()),
            weight_abstention=data["weight_abstention"],
            weight_share=data["weight_share"],
            weight_contacts=data["weight_contacts"],
        )


class TerritoryImportForm(forms.Form):
    """Upload a reference file; the import runs in the background (territory.services.imports)."""

    kind = forms.ChoiceField(label=_("What the file holds"))
    file = forms.FileField(label=_("File"))
    extra_file = forms.FileField(
        label=_("Second file (optional)"),
        required=False,
        help_text=_("The candidates table of data.gouv.fr's long results layout."),
    )
    election_round = forms.ModelChoiceField(
        label=_("Round (results only)"),
        queryset=ElectionRound.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from territory.models import TerritoryImport

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = TerritoryImport.Kind.choices
        self.fields["election_round"].queryset = ElectionRound.objects.select_related(
            "election"
        ).order_by("-date", "-number")
        self.fields["election_round"].label_from_instance = lambda r: r.label

    def clean(self) -> dict[str, Any]:
        from territory.models import TerritoryImport

        data = super().clean() or {}
        if data.get("kind") == TerritoryImport.Kind.RESULTS and not data.get("election_round"):
            self.add_error("election_round", _("Choose the round these results belong to."))
        return data
