"""Segment criteria of territory intelligence, registered in crm.segments' registry.

- "Lives at an address of a layer": the person's address (its household key, or their geocoded
  point within about 15 m) is one of the BAN addresses the layer covers. A fact about an
  address, not an opinion.
- "Their polling station ranks among the first N of a forecast": a condition on the bureau; every
  person of a bureau is in or out together. No forecast is ever attached to a person.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Concat
from django.db.models.lookups import EndsWith, StartsWith
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.segments.criteria.territory import person_bureau_code
from crm.segments.params import Choice, Integer
from crm.segments.registry import TERRITORY, BuildContext, Criterion, register
from territory.intelligence.models import BureauForecast, LayerAddress
from territory.intelligence.selectors import campaign_forecasts, campaign_layers

NEAR_DEGREES = 0.00015  # about 15 m


def _layers(ctx: BuildContext) -> list[tuple[Any, Any]]:
    return [(layer.pk, layer.name) for layer in campaign_layers(ctx.campaign)]


def _forecasts(ctx: BuildContext) -> list[tuple[Any, Any]]:
    return [(f.pk, f.name) for f in campaign_forecasts(ctx.campaign)]


class LivesAtLayerAddress(Criterion):
    name = "layer_address"
    label = gettext_lazy("Lives at an address of a data layer")
    group = TERRITORY
    help_text = gettext_lazy(
        "People whose address is one the layer covers (e.g. a social-housing building)."
    )
    person_fields = ("address_key", "latitude", "longitude")
    params = (Choice("layer", gettext_lazy("layer"), _layers),)

    def available(self, ctx: BuildContext) -> bool:
        return campaign_layers(ctx.campaign).exists()

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        rows = LayerAddress.objects.filter(layer_id=params["layer"])
        by_key = rows.filter(
            StartsWith(OuterRef("address_key"), F("household_prefix")),
            EndsWith(OuterRef("address_key"), Concat(Value("|"), F("postcode"))),
        )
        by_point = rows.filter(
            address__lat__gte=OuterRef("latitude") - NEAR_DEGREES,
            address__lat__lte=OuterRef("latitude") + NEAR_DEGREES,
            address__lon__gte=OuterRef("longitude") - NEAR_DEGREES,
            address__lon__lte=OuterRef("longitude") + NEAR_DEGREES,
        )
        return Q(Exists(by_key)) | Q(Exists(by_point))

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        return _("Lives at an address of the layer “%(layer)s”") % {
            "layer": self.params[0].display(params["layer"], ctx)
        }


class ForecastRank(Criterion):
    name = "forecast_rank"
    label = gettext_lazy("Their polling station is among the first of a forecast's ranking")
    group = TERRITORY
    help_text = gettext_lazy(
        "Polling stations ranked by votes to win; every voter of a polling station counts alike."
    )
    person_fields = ("commune_code", "polling_station_code")
    params = (
        Choice("forecast", gettext_lazy("forecast"), _forecasts),
        Integer("top", gettext_lazy("first"), min_value=1, max_value=100_000),
    )

    def available(self, ctx: BuildContext) -> bool:
        return campaign_forecasts(ctx.campaign).exists()

    def compile(self, params: dict[str, Any], ctx: BuildContext) -> Q:
        rows = BureauForecast.objects.filter(
            forecast_id=params["forecast"],
            rank__lte=params["top"],
            bureau__type="bureau",
            bureau__code=person_bureau_code(),
        )
        return Q(Exists(rows))

    def describe(self, params: dict[str, Any], ctx: BuildContext) -> str:
        return _("Polling station among the first %(top)s of “%(forecast)s”") % {
            "top": params["top"],
            "forecast": self.params[0].display(params["forecast"], ctx),
        }


register(LivesAtLayerAddress)
register(ForecastRank)
