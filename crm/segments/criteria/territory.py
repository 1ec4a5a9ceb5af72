"""Indicators of the person's polling station (bureau de vote), from the `territory` app.

Registered only when the territory models exist (`territory.Zone`, `territory.BureauResult`,
`territory.ElectionRound`, `territory.CandidateVotes`): the app is built separately, and this
module is the hook that connects it. A person's bureau is the territory zone of type "bureau"
whose code is `<commune INSEE code>_<station code on 4 characters>` (e.g. 41151_0003), as
`territory.formats.codes.bureau_zone_code()` writes it.

Results are public data; the criterion compiles to one more EXISTS over the round's results in
the same SQL query as the other criteria.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Exists, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Concat, LPad
from django.db.models.lookups import GreaterThan, LessThan
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.segments.errors import ParamError
from crm.segments.params import Choice, DecimalAmount, Integer, Text
from crm.segments.registry import TERRITORY, BuildContext, Criterion, register

MODELS = ("Zone", "BureauResult", "ElectionRound", "CandidateVotes")


def territory_models() -> dict[str, Any] | None:
    """The territory models, or None while that app does not provide them."""
    try:
        return {name: apps.get_model("territory", name) for name in MODELS}
    except LookupError:
        return None


def _rounds(ctx: BuildContext) -> list[tuple[Any, Any]]:
    models = territory_models()
    if models is None:
        return []
    rounds = (
        models["ElectionRound"]
        .objects.filter(pk__in=models["BureauResult"].objects.values("round_id"))
        .select_related("election")
        .order_by("-date", "-number")
    )
    return [(r.pk, f"{r.election} · {_('round')} {r.number} ({r.date:%d/%m/%Y})") for r in rounds]


def person_bureau_code() -> Any:
    """The zone code of the person's bureau, computed from their commune and station codes."""
    return Concat(
        OuterRef("commune_code"), Value("_"), LPad(OuterRef("polling_station_code"), 4, Value("0"))
    )


class BureauIndicator(Criterion):
    name = "bureau_indicator"
    label = gettext_lazy("Their polling station's results")
    group = TERRITORY
    person_fields = ("commune_code", "polling_station_code")
    params = (
        Choice(
            "indicator",
            gettext_lazy("indicator"),
            [
                ("abstention", gettext_lazy("abstention")),
                ("turnout", gettext_lazy("turnout")),
                ("nuance", gettext_lazy("share of a political label (nuance)")),
            ],
        ),
        Choice("round", gettext_lazy("in"), _rounds),
        Text("nuance", gettext_lazy("nuance"), required=False, max_length=20),
        Choice(
            "op",
            gettext_lazy("is"),
            [("above", gettext_lazy("above")), ("below", gettext_lazy("below"))],
        ),
        DecimalAmount("percent", gettext_lazy("percent"), max_value=Decimal(100)),
    )

    def available(self, ctx: BuildContext) -> bool:
        return bool(_rounds(ctx))

    def clean(self, params: dict[str, Any], ctx: BuildContext) -> dict[str, Any]:
        if params["indicator"] == "nuance" and not params.get("nuance"):
            raise ParamError(_("Give the nuance, e.g. SOC or DVG."), param="nuance")
        if params["indicator"] != "nuance":
            params.pop("nuance", None)
        return params

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        models = territory_models()
        if models is None:  # the app was removed after the segment was saved
            return Q(pk__in=[])
        results = models["BureauResult"].objects.filter(
            round_id=params["round"],
            bureau__type="bureau",
            bureau__code=person_bureau_code(),
        )
        percent = Decimal(params["percent"])
        if params["indicator"] == "abstention":
            part, whole = F("abstentions") * 100, F("registered") * percent
        elif params["indicator"] == "turnout":
            part, whole = F("voters") * 100, F("registered") * percent
        else:
            votes = (
                models["CandidateVotes"]
                .objects.filter(result=OuterRef("pk"), candidacy__nuance=params["nuance"])
                .order_by()
                .values("result")
                .annotate(total=Sum("votes"))
                .values("total")[:1]
            )
            part = Coalesce(Subquery(votes, output_field=IntegerField()), 0) * 100
            whole = F("expressed") * percent
        compare = GreaterThan if params["op"] == "above" else LessThan
        return Q(Exists(results.filter(compare(part, whole))))

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        what = self.params[0].display(params["indicator"], ctx)
        if params.get("nuance"):
            what += f" {params['nuance']}"
        return _("Polling station: %(what)s %(op)s %(percent)s %% (%(round)s)") % {
            "what": what,
            "op": self.params[3].display(params["op"], ctx),
            "percent": params["percent"],
            "round": self.params[1].display(params["round"], ctx),
        }


def _campaign_rounds(ctx: BuildContext) -> list[tuple[Any, Any]]:
    """Rounds with results in the campaign's own polling stations, most recent first."""
    from territory.selectors import campaign_bureaux, rounds_with_results

    key = ("territory:rounds", ctx.campaign.pk)
    if key not in ctx.cache:
        ids = list(campaign_bureaux(ctx.campaign).values_list("pk", flat=True))
        ctx.cache[key] = [(r.pk, r.label) for r in rounds_with_results(ids)]
    return list(ctx.cache[key])


class TopBureaux(Criterion):
    """People whose polling station is among the N best of the campaign's target score
    (territory.targeting: abstention, the share of a nuance, and how few of the bureau's voters
    are already our contacts, default weights). A person's polling station is the one of their
    roll, else of their geocoded address (territory.PersonLocation, `geocode_people`).

    The ranking is computed when the segment is evaluated, so the segment follows new results
    and new contacts."""

    name = "top_bureaux"
    label = gettext_lazy("Lives in one of the top polling stations (target score)")
    group = TERRITORY
    person_fields = ("commune_code", "polling_station_code")
    params = (
        Integer("n", gettext_lazy("top"), min_value=1, max_value=1000),
        Choice("round", gettext_lazy("score on the round"), _campaign_rounds),
        Text("nuance", gettext_lazy("share of the nuance"), required=False, max_length=20),
    )

    def available(self, ctx: BuildContext) -> bool:
        return territory_models() is not None and bool(_campaign_rounds(ctx))

    def top_ids(self, params: dict[str, Any], ctx: BuildContext) -> list[int]:
        from territory.selectors import campaign_bureaux, contact_counts_by_bureau
        from territory.targeting import ScoreSettings, score_bureaux

        key = ("territory:top", ctx.campaign.pk, params["round"], params.get("nuance"), params["n"])
        if key not in ctx.cache:
            bureaux = list(campaign_bureaux(ctx.campaign).order_by("code"))
            nuance = (params.get("nuance") or "").strip().upper()
            settings = ScoreSettings(
                round_id=int(params["round"]), nuances=(nuance,) if nuance else ()
            )
            # The ranking counts all the campaign's contacts (only counts, never shown), so
            # the segment holds the same bureaux whoever evaluates it.
            contacts = contact_counts_by_bureau(ctx.campaign, [b.pk for b in bureaux])
            scores = [s for s in score_bureaux(bureaux, settings, contacts) if s.score is not None]
            ctx.cache[key] = [s.bureau.pk for s in scores[: int(params["n"])]]
        return list(ctx.cache[key])

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        if territory_models() is None:
            return Q(pk__in=[])
        from territory.models import PersonLocation, Zone

        top = self.top_ids(params, ctx)
        if not top:
            return Q(pk__in=[])
        located = PersonLocation.objects.filter(person=OuterRef("pk"), bureau_id__in=top)
        on_roll = Zone.objects.filter(pk__in=top, code=person_bureau_code())
        return Q(Exists(located)) | Q(Exists(on_roll))

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        text = _("Lives in one of the %(n)s top polling stations by target score (%(round)s)") % {
            "n": params["n"],
            "round": self.params[1].display(params["round"], ctx),
        }
        if params.get("nuance"):
            text += " · " + _("share of %(nuance)s") % {"nuance": params["nuance"]}
        return text


if territory_models() is not None:
    register(BureauIndicator)
    register(TopBureaux)
