"""Read queries of territory intelligence: which layers and forecasts a campaign sees, and their
figures per bureau."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet

from territory.intelligence.models import (
    BureauForecast,
    Forecast,
    Layer,
    LayerZoneFigure,
    TransferStudy,
)


def campaign_layers(campaign: Any) -> QuerySet[Layer]:
    """The campaign's own layers and the national ones."""
    return Layer.objects.filter(Q(campaign=campaign) | Q(campaign__isnull=True)).order_by(
        "name", "pk"
    )


def campaign_forecasts(campaign: Any) -> QuerySet[Forecast]:
    return Forecast.objects.filter(campaign=campaign, computed_at__isnull=False)


def campaign_transfers(campaign: Any) -> QuerySet[TransferStudy]:
    return TransferStudy.objects.filter(campaign=campaign).select_related(
        "source_round__election", "target_round__election"
    )


def layer_values(layer: Layer, what: str, zone_ids: Sequence[int]) -> dict[int, float | None]:
    """Per zone: the share of its addresses in the layer ("share") or its features ("count").
    A zone without any feature has 0 (it has addresses but none in the layer)."""
    figures = {
        f.zone_id: f for f in LayerZoneFigure.objects.filter(layer=layer, zone_id__in=zone_ids)
    }
    out: dict[int, float | None] = {}
    for zone_id in zone_ids:
        figure = figures.get(zone_id)
        if what == "count":
            out[zone_id] = float(figure.features) if figure else 0.0
        else:
            out[zone_id] = figure.share if figure else 0.0
    return out


FORECAST_FIELDS = {"turnout": "turnout", "share": "share", "votes": "votes_to_win", "rank": "rank"}


def forecast_values(
    forecast: Forecast, what: str, bureau_ids: Sequence[int]
) -> dict[int, float | None]:
    column = FORECAST_FIELDS[what]
    found = dict(
        BureauForecast.objects.filter(forecast=forecast, bureau_id__in=bureau_ids).values_list(
            "bureau_id", column
        )
    )
    return {b: found.get(b) for b in bureau_ids}
