"""Admin screens of territory intelligence (Wagtail admin). Thin: scoping through
territory.permissions (another campaign's data is a 404), work in services."""

from __future__ import annotations

import math
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cocarde.tenancy.models import Campaign
from cocarde.tenancy.permissions import Capability, can, is_national_admin
from territory.formats.common import FormatError
from territory.intelligence import presentation
from territory.intelligence.forms import ForecastForm, LayerImportForm, TransferForm
from territory.intelligence.models import Forecast, Layer, TransferStudy
from territory.intelligence.selectors import (
    campaign_layers,
    campaign_transfers,
)
from territory.intelligence.services.layers import import_layer
from territory.intelligence.services.transfers import TransferError, study_transfers
from territory.intelligence.tasks import bulk_compute_forecast
from territory.models import CandidateVotes, ElectionRound, Zone
from territory.permissions import campaign_for, visible_campaigns
from territory.selectors import campaign_bureaux, rounds_with_results

EDIT_CAPABILITY = Capability.PLAN_FIELD


def _percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{number_format(round(value * 100, 1), 1)} %"


def _may_edit(request: HttpRequest, campaign: Campaign) -> bool:
    return can(request.user, EDIT_CAPABILITY, campaign)


def _require_edit(request: HttpRequest, campaign: Campaign) -> None:
    if not _may_edit(request, campaign):
        raise PermissionDenied


def index(request: HttpRequest) -> HttpResponse:
    campaigns = list(visible_campaigns(request.user))
    if not campaigns:
        raise Http404
    campaign = (
        campaign_for(request.user, request.GET["campaign"])
        if request.GET.get("campaign")
        else campaigns[0]
    )
    return render(
        request,
        "intelligence/index.html",
        {
            "campaign": campaign,
            "campaigns": campaigns,
            "layers": campaign_layers(campaign),
            "forecasts": Forecast.objects.filter(campaign=campaign),
            "transfers": campaign_transfers(campaign),
            "may_edit": _may_edit(request, campaign),
            "page_title": _("Territory intelligence"),
        },
    )


# --- layers ----------------------------------------------------------------------------------


def _layer(campaign: Campaign, layer_id: int) -> Layer:
    layer = campaign_layers(campaign).filter(pk=layer_id).first()
    if layer is None:
        raise Http404
    return layer


def layer_import(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, campaign_id)
    _require_edit(request, campaign)
    national = is_national_admin(request.user)
    form = LayerImportForm(
        request.POST or None, request.FILES or None, may_publish_nationally=national
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        try:
            layer = import_layer(
                upload.read(),
                actor=request.user,
                filename=upload.name,
                name=data["name"],
                campaign=None if data.get("national") else campaign,
                description=data["description"],
                color=data["color"],
            )
        except FormatError as error:
            form.add_error("file", str(error))
        else:
            messages.success(
                request,
                _("Layer “%(name)s” imported: %(placed)s placed, %(unplaced)s not placed.")
                % {"name": layer.name, "placed": layer.feature_count,
                   "unplaced": len(layer.unplaced)},
            )  # fmt: skip
            return redirect("intelligence_layer", campaign.pk, layer.pk)
    return render(
        request,
        "intelligence/layer_import.html",
        {"campaign": campaign, "form": form, "page_title": _("Import a data layer")},
    )


def layer_detail(request: HttpRequest, campaign_id: int, layer_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, campaign_id)
    layer = _layer(campaign, layer_id)
    bureaux = {z.pk: z for z in campaign_bureaux(campaign)}
    figures = [
        {"bureau": bureaux[f.zone_id], "features": f.features, "addresses": f.addresses,
         "zone_addresses": f.zone_addresses, "share": _percent(f.share)}
        for f in layer.zone_figures.filter(zone_id__in=list(bureaux)).order_by("zone__code")
    ]  # fmt: skip
    map_url = f"{reverse('territory_map')}?campaign={campaign.pk}&indicator=layer:{layer.pk}:share"
    return render(
        request,
        "intelligence/layer_detail.html",
        {
            "campaign": campaign,
            "layer": layer,
            "figures": figures,
            "map_url": map_url,
            "may_edit": _may_edit(request, campaign)
            and (layer.campaign_id == campaign.pk or is_national_admin(request.user)),
            "page_title": layer.name,
        },
    )


@require_POST
def layer_delete(request: HttpRequest, campaign_id: int, layer_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, campaign_id)
    layer = _layer(campaign, layer_id)
    _require_edit(request, campaign)
    if layer.campaign_id is None and not is_national_admin(request.user):
        raise PermissionDenied
    layer.delete()
    messages.success(request, _("Layer deleted."))
    return redirect(f"{reverse('intelligence_index')}?campaign={campaign.pk}")


def layer_geojson(request: HttpRequest, campaign_id: int, layer_id: int) -> JsonResponse:
    campaign = campaign_for(request.user, campaign_id)
    layer = _layer(campaign, layer_id)
    features = [
        {
            "type": "Feature",
            "geometry": f.geometry,
            "properties": {"label": f.label, "fields": f.properties},
        }
        for f in layer.features.all()
    ]
    return JsonResponse(
        {
            "type": "FeatureCollection",
            "name": layer.name,
            "color": layer.color,
            "features": features,
        }
    )


# --- forecasts -------------------------------------------------------------------------------


def _nuances(campaign: Campaign) -> list[str]:
    ids = list(campaign_bureaux(campaign).values_list("pk", flat=True))
    return sorted(
        {
            n
            for n in CandidateVotes.objects.filter(result__bureau_id__in=ids)
            .values_list("candidacy__nuance", flat=True)
            .distinct()
            if n
        }
    )


def forecast_edit(
    request: HttpRequest, campaign_id: int, forecast_id: int | None = None
) -> HttpResponse:
    campaign = campaign_for(request.user, campaign_id)
    _require_edit(request, campaign)
    instance = (
        Forecast.objects.filter(campaign=campaign, pk=forecast_id).first()
        if forecast_id
        else Forecast(campaign=campaign)
    )
    if instance is None:
        raise Http404
    form = ForecastForm(
        request.POST or None,
        instance=instance,
        layers=campaign_layers(campaign),
        nuances=_nuances(campaign),
    )
    if request.method == "POST" and form.is_valid():
        forecast = form.save(commit=False)
        if forecast.created_by_id is None and request.user.is_authenticated:
            forecast.created_by = request.user
        forecast.computed_at = None  # shown as "being computed" until the task is done
        forecast.summary = {}
        forecast.save()
        form.save_m2m()
        user_id = request.user.pk if request.user.is_authenticated else None
        transaction.on_commit(lambda: bulk_compute_forecast.delay(forecast.pk, user_id))
        return redirect("intelligence_forecast", campaign.pk, forecast.pk)
    return render(
        request,
        "intelligence/forecast_edit.html",
        {"campaign": campaign, "form": form, "forecast": instance if instance.pk else None,
         "page_title": _("Forecast")},
    )  # fmt: skip


def forecast_detail(request: HttpRequest, campaign_id: int, forecast_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, campaign_id)
    forecast = Forecast.objects.filter(campaign=campaign, pk=forecast_id).first()
    if forecast is None:
        raise Http404
    if forecast.computed_at is None:
        return render(
            request,
            "intelligence/forecast_pending.html",
            {"campaign": campaign, "forecast": forecast, "error": forecast.summary.get("error"),
             "may_edit": _may_edit(request, campaign), "page_title": forecast.name},
        )  # fmt: skip
    rows = [
        {
            "rank": r.rank,
            "bureau": r.bureau,
            "registered": r.registered,
            "turnout": _percent(r.turnout),
            "turnout_interval": f"{_percent(r.turnout_low)} – {_percent(r.turnout_high)}",
            "naive_turnout": _percent(r.naive_turnout),
            "turnout_error": _points(r.backtest_turnout_error),
            "share": _percent(r.share),
            "share_interval": f"{_percent(r.share_low)} – {_percent(r.share_high)}"
            if r.share is not None
            else "",
            "naive_share": _percent(r.naive_share),
            "share_error": _points(r.backtest_share_error),
            "votes": number_format(round(r.votes_to_win), 0, force_grouping=True),
        }
        for r in forecast.bureaux.select_related("bureau").order_by("rank")
    ]
    summary = forecast.summary or {}
    backtests = []
    for metric in ("turnout", "share"):
        part = summary.get(metric) or {}
        test = part.get("backtest")
        if part:
            backtests.append(
                {
                    "metric": presentation.metric_name(metric),
                    "mae": _points(test["mae"]) if test else "–",
                    "naive_mae": _points(test["naive_mae"]) if test else "–",
                    "better": test["better_than_naive"] if test else None,
                    "interval": _points(part.get("interval")),
                }
            )
    return render(
        request,
        "intelligence/forecast_detail.html",
        {
            "campaign": campaign,
            "forecast": forecast,
            "rows": rows,
            "backtests": backtests,
            "text": presentation.context(forecast),
            "rounds": summary.get("rounds", []),
            "map_url": f"{reverse('territory_map')}?campaign={campaign.pk}"
            f"&indicator=forecast:{forecast.pk}:votes",
            "may_edit": _may_edit(request, campaign),
            "page_title": forecast.name,
        },
    )


def _points(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return _("%(points)s pts") % {"points": number_format(round(value * 100, 1), 1)}


# --- transfers -------------------------------------------------------------------------------


def transfers(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, campaign_id)
    ids = list(campaign_bureaux(campaign).values_list("pk", flat=True))
    rounds = rounds_with_results(ids)
    form = TransferForm(request.POST or None, rounds=rounds)
    if request.method == "POST":
        _require_edit(request, campaign)
        if form.is_valid():
            try:
                study = study_transfers(
                    actor=request.user,
                    campaign=campaign,
                    source_round=form.rounds[form.cleaned_data["source_round"]],
                    target_round=form.rounds[form.cleaned_data["target_round"]],
                )
            except TransferError as error:
                form.add_error(None, str(error))
            else:
                return redirect("intelligence_transfer", campaign.pk, study.pk)
    return render(
        request,
        "intelligence/transfers.html",
        {"campaign": campaign, "form": form, "studies": campaign_transfers(campaign),
         "may_edit": _may_edit(request, campaign), "page_title": _("Vote transfers")},
    )  # fmt: skip


def transfer_detail(request: HttpRequest, campaign_id: int, study_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, campaign_id)
    study = campaign_transfers(campaign).filter(pk=study_id).first()
    if study is None:
        raise Http404
    result = study.result
    table = []
    for i, source in enumerate(result["sources"]):
        cells = []
        for j, _target in enumerate(result["targets"]):
            share = result["matrix"][i][j]
            low, high = _percent(result["low"][i][j]), _percent(result["high"][i][j])
            cells.append(
                {
                    "share": _percent(share),
                    "interval": f"{low} – {high}",
                    "voters": number_format(
                        round(share * source["voters"]), 0, force_grouping=True
                    ),
                }
            )
        table.append({"source": source, "cells": cells})
    return render(
        request,
        "intelligence/transfer_detail.html",
        {
            "campaign": campaign,
            "study": study,
            "result": result,
            "table": table,
            "chart": flow_chart(result),
            "page_title": _("Vote transfers"),
        },
    )


PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
           "#1f78b4", "#b2df8a", "#fb9a99", "#999999", "#cccccc"]  # fmt: skip


def flow_chart(result: dict[str, Any], width: int = 720, height: int = 420) -> dict[str, Any]:
    """Boxes and ribbons of a flow chart (Sankey-like), drawn as inline SVG by the template."""
    sources, targets, matrix = result["sources"], result["targets"], result["matrix"]
    total = sum(s["voters"] for s in sources) or 1
    gap = 6
    usable = height - gap * (max(len(sources), len(targets)) - 1)
    box_w, left_x, right_x = 14, 170, width - 184
    flows = [[matrix[i][j] * s["voters"] for j in range(len(targets))]
             for i, s in enumerate(sources)]  # fmt: skip
    target_totals = [sum(flows[i][j] for i in range(len(sources))) for j in range(len(targets))]
    scale = usable / total
    left, y = [], 0.0
    for i, s in enumerate(sources):
        h = s["voters"] * scale
        left.append({"label": s["label"], "y": y, "h": max(h, 1), "color": PALETTE[i % 12],
                     "ty": y + h / 2})  # fmt: skip
        y += h + gap
    right, y = [], 0.0
    for j, t in enumerate(targets):
        h = target_totals[j] * scale
        right.append({"label": t["label"], "y": y, "h": max(h, 1), "ty": y + h / 2})
        y += h + gap
    ribbons = []
    out_offset = [b["y"] for b in left]
    in_offset = [b["y"] for b in right]
    for i in range(len(sources)):
        for j in range(len(targets)):
            h = flows[i][j] * scale
            if h < 0.5:
                continue
            y0, y1 = out_offset[i], in_offset[j]
            out_offset[i] += h
            in_offset[j] += h
            x0, x1 = left_x + box_w, right_x
            mid = (x0 + x1) / 2
            path = (f"M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f} "
                    f"L{x1:.1f},{y1 + h:.1f} C{mid:.1f},{y1 + h:.1f} {mid:.1f},{y0 + h:.1f} "
                    f"{x0:.1f},{y0 + h:.1f} Z")  # fmt: skip
            ribbons.append({"path": path, "color": left[i]["color"],
                            "title": f"{sources[i]['label']} → {targets[j]['label']}: "
                                     f"{_percent(matrix[i][j])}"})  # fmt: skip
    return {"width": width, "height": height, "left": left, "right": right, "ribbons": ribbons,
            "left_x": left_x, "right_x": right_x, "box_w": box_w}  # fmt: skip


__all__ = ["ElectionRound", "TransferStudy", "Zone"]
