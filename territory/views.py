"""The territory map, the bureau card and the targeting table, in the Wagtail admin. Thin:
scoping is in territory.permissions, figures in indicators/targeting/selectors."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cocarde.tenancy.models import Campaign
from cocarde.tenancy.permissions import Capability, can
from crm.models import Person
from territory import extensions
from territory.forms import TargetingForm
from territory.indicators import (
    INSEE_BY_KEY,
    Indicator,
    available_insee,
    classify,
    insee_by_bureau,
    values_by_bureau,
)
from territory.models import BureauResult, Candidacy, Zone
from territory.people_map import Viewport, people_layer
from territory.permissions import bureau_for, campaign_for, visible_campaigns
from territory.selectors import (
    SUPPORT_UNKNOWN,
    ContactCounts,
    campaign_bureaux,
    contact_counts_by_bureau,
    rounds_with_results,
)
from territory.targeting import BureauScore, score_bureaux


def _percent(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "–"
    text = number_format(round(value * 100, 1), 1)  # number_format truncates
    return f"{'+' if signed and value > 0 else ''}{text} %"


def _bureau_ids(campaign: Campaign) -> list[int]:
    return list(campaign_bureaux(campaign).values_list("pk", flat=True))


def indicator_options(campaign: Campaign, bureau_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Every indicator the map can colour this campaign's bureaux by, grouped for a <select>."""
    rounds = rounds_with_results(list(bureau_ids))
    groups: list[dict[str, Any]] = []
    chronological = sorted(rounds, key=lambda r: (r.date, r.number))
    for r in rounds:
        options = [
            {"value": f"abstention:{r.pk}", "label": _("Abstention")},
            {"value": f"turnout:{r.pk}", "label": _("Turnout")},
        ]
        candidacies = Candidacy.objects.filter(
            round=r, votes__result__bureau_id__in=bureau_ids
        ).distinct()
        for c in candidacies.order_by("panel_number", "last_name"):
            nuance = f" ({c.nuance})" if c.nuance else ""
            options.append(
                {
                    "value": f"candidate:{r.pk}:{c.pk}",
                    "label": _("Share: %(name)s") % {"name": f"{c.display_name}{nuance}"},
                }
            )
        nuances = sorted({c.nuance for c in candidacies if c.nuance})
        for nuance in nuances:
            options.append(
                {
                    "value": f"nuance:{r.pk}:{nuance}",
                    "label": _("Share of nuance %(nuance)s") % {"nuance": nuance},
                }
            )
        groups.append({"label": r.label, "options": options})
    changes = []
    for before, after in zip(chronological, chronological[1:], strict=False):
        changes.append(
            {
                "value": f"turnout_change:{before.pk}:{after.pk}",
                "label": _("Turnout change: %(before)s → %(after)s")
                % {"before": before.label, "after": after.label},
            }
        )
    if changes:
        groups.append({"label": _("Turnout change"), "options": changes})
    insee = [
        {"value": f"insee:{i.key}", "label": str(i.label)} for i in available_insee(bureau_ids)
    ]
    if insee:
        groups.append(
            {"label": _("INSEE (estimated from IRIS by address weights)"), "options": insee}
        )
    for provider in extensions.indicator_providers():
        groups.extend(provider.options(campaign, bureau_ids))
    if rounds:
        groups.append(
            {"label": _("Targeting"), "options": [{"value": "score", "label": _("Target score")}]}
        )
    return groups


def parse_indicator(raw: str, campaign: Campaign, bureau_ids: Sequence[int]) -> Indicator:
    """An indicator from its option value; rounds and candidacies must be the campaign's."""
    kind, *parts = (raw or "").split(":")
    round_ids = {r.pk for r in rounds_with_results(list(bureau_ids))}

    def round_id(text: str) -> int:
        if not text.isdigit() or int(text) not in round_ids:
            raise Http404
        return int(text)

    if kind in {"abstention", "turnout"} and len(parts) == 1:
        return Indicator(kind, round_id=round_id(parts[0]))
    if kind == "candidate" and len(parts) == 2 and parts[1].isdigit():
        rid = round_id(parts[0])
        if not Candidacy.objects.filter(pk=int(parts[1]), round_id=rid).exists():
            raise Http404
        return Indicator(kind, round_id=rid, candidacy_id=int(parts[1]))
    if kind == "nuance" and len(parts) == 2:
        return Indicator(kind, round_id=round_id(parts[0]), nuance=parts[1])
    if kind == "turnout_change" and len(parts) == 2:
        return Indicator(kind, other_round_id=round_id(parts[0]), round_id=round_id(parts[1]))
    if kind == "insee" and len(parts) == 1 and parts[0] in INSEE_BY_KEY:
        return Indicator(kind, insee_key=parts[0])
    raise Http404


def _default_indicator(options: list[dict[str, Any]]) -> str:
    for group in options:
        if group["options"]:
            return str(group["options"][0]["value"])
    return ""


def map_view(request: HttpRequest) -> HttpResponse:
    campaigns = list(visible_campaigns(request.user))
    if not campaigns:
        raise Http404
    campaign = (
        campaign_for(request.user, request.GET["campaign"])
        if request.GET.get("campaign")
        else campaigns[0]
    )
    bureau_ids = _bureau_ids(campaign)
    options = indicator_options(campaign, bureau_ids)
    requested = request.GET.get("indicator", "")
    values = {o["value"] for g in options for o in g["options"]}
    config = {
        "dataUrl": reverse("territory_map_data", args=[campaign.pk]),
        "cardUrl": reverse("territory_bureau_card", args=[campaign.pk, 0]),
        "tileUrl": settings.TERRITORY_MAP_TILE_URL,
        "tileAttribution": settings.TERRITORY_MAP_TILE_ATTRIBUTION,
        "indicator": requested if requested in values else _default_indicator(options),
        "scoreQuery": request.GET.urlencode(),
        "peopleUrl": reverse("territory_people_data", args=[campaign.pk]),
        "peopleLabel": _("%(count)s people"),
        "noData": _("No data"),
        "withoutContour": _("Polling stations without a contour, not drawn: %(count)s"),
        "overlays": extensions.overlays(campaign),
    }
    return render(
        request,
        "territory/map.html",
        {
            "campaign": campaign,
            "campaigns": campaigns,
            "options": options,
            "config": config,
            "bureau_count": len(bureau_ids),
            "people_choices": _people_choices(request, campaign),
            "targets_url": reverse("territory_targets", args=[campaign.pk]),
            "page_title": _("Territory map"),
            "extra_scripts": extensions.map_scripts(),
        },
    )


def _people_of(request: HttpRequest, campaign: Campaign, segment_id: str) -> Any:
    """The campaign's people the user may see, or one of its segments' (404 otherwise)."""
    from crm.segments.compiler import universe
    from crm.segments.selectors import get_segment_for
    from crm.segments.services import build_context, people_in

    if not can(request.user, Capability.VIEW_PEOPLE, campaign):
        raise Http404
    if segment_id in ("", "all"):
        return universe(build_context(campaign, user=request.user))
    segment = get_segment_for(request.user, segment_id)
    if segment.campaign_id != campaign.pk:
        raise Http404
    return people_in(segment, user=request.user)


def people_data(request: HttpRequest, campaign_id: int) -> JsonResponse:
    """Our people in the viewport: clusters (low zoom) or points (high zoom)."""
    campaign = campaign_for(request.user, campaign_id)
    try:
        viewport = Viewport.parse(request.GET.get("bbox", ""), request.GET.get("zoom", ""))
    except ValueError:
        return JsonResponse({"error": "bbox=west,south,east,north&zoom=N"}, status=400)
    people = _people_of(request, campaign, request.GET.get("segment", "all"))
    return JsonResponse(people_layer(people, viewport))


def _people_choices(request: HttpRequest, campaign: Campaign) -> list[dict[str, Any]]:
    from crm.segments.selectors import segments_for

    if not can(request.user, Capability.VIEW_PEOPLE, campaign):
        return []
    choices = [{"value": "all", "label": _("All our contacts")}]
    for segment in segments_for(request.user, campaign=campaign)[:200]:
        choices.append({"value": str(segment.pk), "label": segment.name})
    return choices


def _targeting_form(
    request: HttpRequest, campaign: Campaign, bureau_ids: Sequence[int]
) -> TargetingForm:
    rounds = rounds_with_results(list(bureau_ids))
    data = request.GET if request.GET.get("round") else None
    extra_choices = [
        (o["value"], f"{g['label']} · {o['label']}")
        for provider in extensions.indicator_providers()
        for g in provider.options(campaign, bureau_ids)
        for o in g["options"]
    ]
    return TargetingForm(data, rounds=rounds, bureau_ids=bureau_ids, extra_choices=extra_choices)


def _scores(
    request: HttpRequest, campaign: Campaign, bureau_ids: Sequence[int]
) -> tuple[TargetingForm, list[BureauScore] | None, bool]:
    form = _targeting_form(request, campaign, bureau_ids)
    score_settings = form.score_settings()
    if score_settings is None:
        return form, None, False
    extra = form.cleaned_data.get("extra_indicator") if form.is_bound else ""
    found = extensions.extra_values(extra, campaign, bureau_ids) if extra else None
    if found:
        score_settings = dataclasses.replace(
            score_settings, weight_extra=form.cleaned_data.get("weight_extra") or 0.0
        )
    contacts = contact_counts_by_bureau(campaign, list(bureau_ids), user=request.user)
    bureaux = list(Zone.objects.filter(pk__in=bureau_ids).order_by("code"))
    scores = score_bureaux(bureaux, score_settings, contacts, found[0] if found else None)
    return form, scores, contacts is not None


def _extension_values(
    raw: str, campaign: Campaign, ids: Sequence[int]
) -> tuple[dict[int, float | None], bool] | None:
    """An indicator of another app (territory.extensions); 404 when it is not the campaign's."""
    if extensions.indicator_provider(raw.split(":", 1)[0]) is None:
        return None
    found = extensions.extra_values(raw, campaign, ids)
    if found is None:
        raise Http404
    return found


def _option_label(campaign: Campaign, ids: Sequence[int], raw: str) -> str:
    return next(
        (o["label"] for g in indicator_options(campaign, ids) for o in g["options"]
         if o["value"] == raw),
        raw,
    )  # fmt: skip


def map_data(request: HttpRequest, campaign_id: int) -> JsonResponse:
    campaign = campaign_for(request.user, campaign_id)
    bureaux = list(campaign_bureaux(campaign).order_by("code"))
    ids = [b.pk for b in bureaux]
    raw = request.GET.get("indicator", "")
    diverging = False
    if raw == "score":
        _form, scores, _connected = _scores(request, campaign, ids)
        if scores is None:
            raise Http404
        values: dict[int, float | None] = {s.bureau.pk: s.score for s in scores}
        label, is_rate, unit = _("Target score"), False, ""
    elif (extra := _extension_values(raw, campaign, ids)) is not None:
        values, is_rate = extra
        label = _option_label(campaign, ids, raw)
        unit = ""
    else:
        indicator = parse_indicator(raw, campaign, ids)
        values = values_by_bureau(indicator, ids)
        diverging = indicator.is_diverging
        is_rate = indicator.is_rate or diverging
        label = next(
            (
                o["label"]
                for g in indicator_options(campaign, ids)
                for o in g["options"]
                if o["value"] == raw
            ),
            raw,
        )
        unit = ""
        if indicator.kind == "insee" and indicator.insee_key == "median_income":
            unit = " €"
    colors, legend = classify(values, diverging=diverging)

    def display(value: float | None) -> str:
        if value is None:
            return _("No data")
        if is_rate:
            return _percent(value, signed=diverging)
        digits = 0 if abs(value) >= 100 else 1
        return f"{number_format(round(value, digits), digits, force_grouping=True)}{unit}"

    features = []
    for bureau in bureaux:
        if not bureau.geometry:
            continue
        value = values.get(bureau.pk)
        features.append(
            {
                "type": "Feature",
                "geometry": bureau.geometry,
                "properties": {
                    "id": bureau.pk,
                    "code": bureau.code,
                    "number": bureau.local_code,
                    "name": bureau.name,
                    "value": value,
                    "display": display(value),
                    "color": colors.get(bureau.pk),
                    "approximate": bureau.is_approximate,
                },
            }
        )
    return JsonResponse(
        {
            "type": "FeatureCollection",
            "features": features,
            "indicator": raw,
            "label": label,
            "legend": [
                {"color": c.color, "label": f"{display(c.low)} – {display(c.high)}"} for c in legend
            ],
            "without_contour": len(bureaux) - len(features),
        }
    )


def bureau_card(request: HttpRequest, campaign_id: int, bureau_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, campaign_id)
    bureau = bureau_for(campaign, bureau_id)
    results = (
        BureauResult.objects.filter(bureau=bureau)
        .select_related("round__election")
        .prefetch_related("votes__candidacy")
        .order_by("-round__date", "-round__number")
    )
    rounds = []
    for result in results:
        votes = sorted(result.votes.all(), key=lambda v: -v.votes)
        rounds.append(
            {
                "round": result.round,
                "result": result,
                "turnout": _percent(result.turnout),
                "abstention": _percent(result.abstention_rate),
                "bars": [
                    {
                        "name": v.candidacy.display_name,
                        "nuance": v.candidacy.nuance,
                        "votes": v.votes,
                        "share": _percent(v.votes / result.expressed if result.expressed else None),
                        "width": round(100 * v.votes / result.expressed, 1)
                        if result.expressed
                        else 0,
                    }
                    for v in votes
                ],
            }
        )
    insee = []
    for spec in available_insee([bureau.pk]):
        value = insee_by_bureau(spec.key, [bureau.pk]).get(bureau.pk)
        if value is None:
            continue
        is_rate = bool(spec.denominator or spec.scale != 1.0)
        insee.append(
            {
                "label": spec.label,
                "value": _percent(value)
                if is_rate
                else number_format(round(value), 0, force_grouping=True),
            }
        )
    contacts = contact_counts_by_bureau(campaign, [bureau.pk], user=request.user)
    return render(
        request,
        "territory/bureau_card.html",
        {
            "bureau": bureau,
            "commune": bureau.parent_of_type(Zone.Type.COMMUNE),
            "rounds": rounds,
            "insee": insee,
            "contacts_connected": contacts is not None,
            "contacts": contacts.get(bureau.pk) if contacts else None,
            "support_levels": _support_levels(contacts.get(bureau.pk) if contacts else None),
        },
    )


def _support_levels(counts: ContactCounts | None) -> list[dict[str, Any]]:
    """Contacts per support level (empty when the user may not see opinions)."""
    if counts is None or not counts.by_support_level:
        return []
    labels = {str(value): label for value, label in Person.SupportLevel.choices}
    labels[SUPPORT_UNKNOWN] = _("Support level unknown")
    return [
        {"key": key, "label": labels.get(key, key), "count": n}
        for key, n in sorted(counts.by_support_level.items())
    ]


def targets_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, campaign_id)
    bureau_ids = _bureau_ids(campaign)
    form, scores, connected = _scores(request, campaign, bureau_ids)
    if request.GET.get("format") == "csv":
        if scores is None:
            raise Http404
        return _csv(campaign, form, scores, connected)
    query = request.GET.copy()
    query["format"] = "csv"
    map_query = request.GET.copy()
    map_query["campaign"] = str(campaign.pk)
    map_query["indicator"] = "score"
    return render(
        request,
        "territory/targets.html",
        {
            "campaign": campaign,
            "campaigns": visible_campaigns(request.user),
            "form": form,
            "scores": scores,
            "rows": [_row(s) for s in scores or []],
            "contacts_connected": connected,
            "csv_url": f"{request.path}?{query.urlencode()}",
            "map_url": f"{reverse('territory_map')}?{map_query.urlencode()}",
            "page_title": _("Where to canvass"),
        },
    )


def _row(score: BureauScore) -> dict[str, Any]:
    return {
        "bureau": score.bureau,
        "registered": score.registered,
        "abstention": _percent(score.abstention_rate),
        "share": _percent(score.share),
        "contacts": score.contacts,
        "score": "–" if score.score is None else number_format(round(score.score, 1), 1),
    }


def _csv(
    campaign: Campaign, form: TargetingForm, scores: list[BureauScore], connected: bool
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="targets-{campaign.slug}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("Rank"),
            _("Polling station"),
            _("Name"),
            _("Registered"),
            _("Abstention rate"),
            _("Chosen share"),
            _("Our contacts"),
            _("Score"),
        ]
    )
    for rank, s in enumerate(scores, start=1):
        writer.writerow(
            [
                rank if s.score is not None else "",
                s.bureau.code,
                s.bureau.name,
                s.registered if s.registered is not None else "",
                "" if s.abstention_rate is None else f"{s.abstention_rate:.4f}".replace(".", ","),
                "" if s.share is None else f"{s.share:.4f}".replace(".", ","),
                s.contacts if connected and s.contacts is not None else "",
                "" if s.score is None else f"{s.score:.1f}".replace(".", ","),
            ]
        )
    return response


# --- reference-data imports (national administrators) -------------------------------------------


def imports_view(request: HttpRequest) -> HttpResponse:
    """Upload a results, INSEE, BAN or polling-station file; list the recent imports."""
    from territory.forms import TerritoryImportForm
    from territory.models import TerritoryImport
    from territory.services.imports import may_import, start_import

    if not may_import(request.user):
        raise Http404
    form = TerritoryImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        run = start_import(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            file=form.cleaned_data["file"],
            extra_file=form.cleaned_data.get("extra_file"),
            election_round=form.cleaned_data.get("election_round"),
        )
        return redirect("territory_import", run.pk)
    return render(
        request,
        "territory/imports.html",
        {
            "form": form,
            "imports": TerritoryImport.objects.select_related("election_round__election")[:50],
            "page_title": _("Territory imports"),
        },
    )


def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    from territory.models import TerritoryImport
    from territory.services.imports import may_import

    if not may_import(request.user):
        raise Http404
    run = get_object_or_404(TerritoryImport, pk=import_id)
    return render(
        request,
        "territory/import_detail.html",
        {
            "run": run,
            "summary": sorted(
                (k, v) for k, v in (run.summary or {}).items() if not isinstance(v, (list, dict))
            ),
            "page_title": _("Territory import"),
        },
    )
