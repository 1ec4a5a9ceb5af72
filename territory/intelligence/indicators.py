"""What territory intelligence adds to the territory map: layers and forecasts as indicators
(to colour bureaux and weigh the target score), and layers as overlays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from territory import extensions
from territory.intelligence.selectors import (
    FORECAST_FIELDS,
    campaign_forecasts,
    campaign_layers,
    forecast_values,
    layer_values,
)


def layer_options(campaign: Any, bureau_ids: Sequence[int]) -> list[dict[str, Any]]:
    options = []
    for layer in campaign_layers(campaign):
        options.append(
            {
                "value": f"layer:{layer.pk}:share",
                "label": _("%(layer)s: share of addresses") % {"layer": layer.name},
            }
        )
        options.append(
            {
                "value": f"layer:{layer.pk}:count",
                "label": _("%(layer)s: number of features") % {"layer": layer.name},
            }
        )
    return [{"label": _("Data layers"), "options": options}] if options else []


def layer_indicator(campaign: Any, parts: list[str], bureau_ids: Sequence[int]) -> Any:
    if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in {"share", "count"}:
        return None
    layer = campaign_layers(campaign).filter(pk=int(parts[0])).first()
    if layer is None:
        return None
    return layer_values(layer, parts[1], bureau_ids)


def forecast_options(campaign: Any, bureau_ids: Sequence[int]) -> list[dict[str, Any]]:
    groups = []
    for forecast in campaign_forecasts(campaign):
        options = [
            {"value": f"forecast:{forecast.pk}:votes", "label": _("Votes to win")},
            {"value": f"forecast:{forecast.pk}:turnout", "label": _("Forecast turnout")},
        ]
        if forecast.summary.get("share"):
            options.append({"value": f"forecast:{forecast.pk}:share", "label": _("Forecast share")})
        groups.append(
            {"label": _("Forecast: %(name)s") % {"name": forecast.name}, "options": options}
        )
    return groups


def forecast_indicator(campaign: Any, parts: list[str], bureau_ids: Sequence[int]) -> Any:
    if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in FORECAST_FIELDS:
        return None
    forecast = campaign_forecasts(campaign).filter(pk=int(parts[0])).first()
    if forecast is None:
        return None
    return forecast_values(forecast, parts[1], bureau_ids)


def layer_overlays(campaign: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": layer.name,
            "url": reverse("intelligence_layer_geojson", args=[campaign.pk, layer.pk]),
            "color": layer.color,
        }
        for layer in campaign_layers(campaign)
    ]


extensions.register_indicator(
    extensions.IndicatorProvider(
        kind="layer",
        options=layer_options,
        values=layer_indicator,
        is_rate=lambda parts: parts[-1:] == ["share"],
    )
)
extensions.register_indicator(
    extensions.IndicatorProvider(
        kind="forecast",
        options=forecast_options,
        values=forecast_indicator,
        is_rate=lambda parts: parts[-1:] in (["turnout"], ["share"]),
    )
)
extensions.register_overlays(layer_overlays)
extensions.register_map_script("intelligence/overlays.js")
