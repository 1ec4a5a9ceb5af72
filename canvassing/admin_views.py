"""Field campaigns in the Wagtail admin: campaigns, turfs on a map, cutting, split/merge/redraw,
assignments, printable walk lists, dashboards, quality review, phone campaigns. Thin: scoping in
canvassing.selectors (another campaign's data is a 404), changes in the services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from canvassing import pdf, phone, quality, reports, services
from canvassing.forms import AssignForm, CutForm, DoorCampaignForm, PhoneCampaignForm
from canvassing.models import Call, PhoneCampaign, PhoneTarget, QualityFlag, Turf
from canvassing.selectors import door_campaign_for, door_campaigns_for
from cocarde.tenancy.permissions import Capability, can, scope


def _phone_campaigns(user: Any) -> Any:
    return scope(PhoneCampaign.objects.select_related("campaign"), user, Capability.PLAN_FIELD)


def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "canvassing/admin/index.html",
        {
            "door_campaigns": door_campaigns_for(request.user).annotate(n_turfs=Count("turfs")),
            "phone_campaigns": _phone_campaigns(request.user).annotate(n=Count("targets")),
        },
    )


def create(request: HttpRequest) -> HttpResponse:
    form = DoorCampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        bureaux = data.pop("bureaux", [])
        campaign = data.pop("campaign")
        try:
            door_campaign = services.create_door_campaign(
                actor=request.user, campaign=campaign, bureaux=bureaux, **data
            )
        except PermissionError:
            raise Http404 from None
        created = services.build_doors(door_campaign, actor=request.user)
        messages.success(
            request, _("%(n)s doors found at the target's addresses.") % {"n": created}
        )
        return redirect("canvassing_detail", door_campaign.pk)
    return render(
        request,
        "canvassing/admin/form.html",
        {"form": form, "title": _("New door-to-door campaign")},
    )


def edit(request: HttpRequest, pk: int) -> HttpResponse:
    dc = door_campaign_for(request.user, pk)
    form = DoorCampaignForm(request.POST or None, instance=dc, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("campaign", None)
        try:
            changed = services.update_door_campaign(dc, actor=request.user, **data)
        except PermissionError:
            raise Http404 from None
        messages.success(request, _("Campaign saved."))
        if set(changed) & {*services.TARGET_FIELDS, "bureaux"}:
            created = services.build_doors(dc, actor=request.user)
            messages.success(
                request, _("%(n)s new doors found at the target's addresses.") % {"n": created}
            )
        return redirect("canvassing_detail", dc.pk)
    return render(
        request,
        "canvassing/admin/form.html",
        {"form": form, "title": _("Edit %(name)s") % {"name": dc.name}},
    )


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    dc = door_campaign_for(request.user, pk)
    turfs = reports.by_turf(dc)
    return render(
        request,
        "canvassing/admin/detail.html",
        {
            "dc": dc,
            "totals": reports.totals(dc),
            "turfs": turfs,
            "canvassers": reports.by_canvasser(dc),
            "bureaux": reports.by_bureau(dc),
            "flags": reports.open_flags(dc),
            "cut_form": CutForm(initial={"doors_per_turf": 60}),
            "assign_form": AssignForm(campaign=dc.campaign),
            "map_config": {
                "dataUrl": reverse("canvassing_map_data", args=[dc.pk]),
                "moveUrl": reverse("canvassing_move", args=[dc.pk]),
                "tileUrl": _tile_url(),
            },
        },
    )


def _tile_url() -> str:
    from django.conf import settings

    return settings.TERRITORY_MAP_TILE_URL


def map_data(request: HttpRequest, pk: int) -> JsonResponse:
    dc = door_campaign_for(request.user, pk)
    return JsonResponse(reports.map_data(dc))


@require_POST
def rebuild(request: HttpRequest, pk: int) -> HttpResponse:
    dc = door_campaign_for(request.user, pk)
    created = services.build_doors(dc, actor=request.user)
    messages.success(
        request, _("%(n)s new doors found at the target's addresses.") % {"n": created}
    )
    return redirect("canvassing_detail", dc.pk)


@require_POST
def cut(request: HttpRequest, pk: int) -> HttpResponse:
    dc = door_campaign_for(request.user, pk)
    form = CutForm(request.POST)
    if form.is_valid():
        result = services.cut_turfs(dc, actor=request.user, **form.cleaned_data)
        messages.success(
            request,
            _("%(turfs)s turfs cut from %(doors)s doors, each in walking order.")
            % {"turfs": len(result.turfs), "doors": result.doors},
        )
    else:
        messages.error(request, " ".join(form.errors.get("__all__", [])) or _("Check the form."))
    return redirect("canvassing_detail", dc.pk)


def _turf(request: HttpRequest, pk: int, turf_id: int) -> Turf:
    dc = door_campaign_for(request.user, pk)
    try:
        return dc.turfs.select_related("door_campaign__campaign").get(pk=turf_id)
    except Turf.DoesNotExist:
        raise Http404 from None


@require_POST
def assign(request: HttpRequest, pk: int, turf_id: int) -> HttpResponse:
    turf = _turf(request, pk, turf_id)
    form = AssignForm(request.POST, campaign=turf.door_campaign.campaign)
    if form.is_valid():
        try:
            services.assign_turf(
                turf,
                list(form.cleaned_data["canvassers"]),
                actor=request.user,
                expires_at=form.cleaned_data["expires_at"],
            )
            messages.success(request, _("Turf assigned."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, _("Choose canvassers and an expiry."))
    return redirect("canvassing_detail", pk)


@require_POST
def split(request: HttpRequest, pk: int, turf_id: int) -> HttpResponse:
    turf = _turf(request, pk, turf_id)
    try:
        new = services.split_turf(turf, actor=request.user)
        messages.success(request, _("Turf split: %(new)s created.") % {"new": new})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("canvassing_detail", pk)


@require_POST
def merge(request: HttpRequest, pk: int, turf_id: int) -> HttpResponse:
    turf = _turf(request, pk, turf_id)
    other = _turf(request, pk, int(request.POST.get("other") or 0))
    try:
        services.merge_turfs(turf, other, actor=request.user)
        messages.success(request, _("Turfs merged."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("canvassing_detail", pk)


@require_POST
def move(request: HttpRequest, pk: int) -> JsonResponse:
    """Redraw on the map: the clicked building goes to the chosen turf."""
    turf = _turf(request, pk, int(request.POST.get("turf") or 0))
    try:
        building = int(request.POST.get("building") or 0)
    except ValueError:
        raise Http404 from None
    moved = services.move_buildings([building], turf, actor=request.user)
    return JsonResponse({"moved": moved})


def walk_list(request: HttpRequest, pk: int, turf_id: int) -> HttpResponse:
    return pdf.as_response(_turf(request, pk, turf_id))


@require_POST
def review(request: HttpRequest, pk: int, flag_id: int) -> HttpResponse:
    dc = door_campaign_for(request.user, pk)
    try:
        flag = QualityFlag.objects.get(pk=flag_id, door_campaign=dc)
    except QualityFlag.DoesNotExist:
        raise Http404 from None
    if request.POST.get("decision") == "rollback":
        count = quality.rollback_flag(flag, actor=request.user)
        messages.success(request, _("%(n)s results rolled back.") % {"n": count})
    else:
        quality.accept_flag(flag, actor=request.user)
        messages.success(request, _("Results accepted."))
    return redirect("canvassing_detail", pk)


# --- phone campaigns ------------------------------------------------------------------------


def phone_create(request: HttpRequest) -> HttpResponse:
    form = PhoneCampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        if not can(request.user, Capability.PLAN_FIELD, form.cleaned_data["campaign"]):
            raise Http404
        pc = form.save()
        added = phone.fill_targets(pc, actor=request.user)
        messages.success(request, _("%(n)s people to call.") % {"n": added})
        return redirect("canvassing_phone_detail", pc.pk)
    return render(
        request, "canvassing/admin/form.html", {"form": form, "title": _("New phone campaign")}
    )


def _phone_campaign(request: HttpRequest, pk: int) -> PhoneCampaign:
    try:
        return _phone_campaigns(request.user).get(pk=pk)  # type: ignore[no-any-return]
    except PhoneCampaign.DoesNotExist:
        raise Http404 from None


def phone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    pc = _phone_campaign(request, pk)
    form = PhoneCampaignForm(request.POST or None, instance=pc, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        callers = data.pop("callers", None)
        try:
            changed = phone.update_phone_campaign(pc, actor=request.user, callers=callers, **data)
        except PermissionError:
            raise Http404 from None
        messages.success(request, _("Campaign saved."))
        if "segment" in changed:
            added = phone.fill_targets(pc, actor=request.user)
            messages.success(request, _("%(n)s new people to call.") % {"n": added})
        return redirect("canvassing_phone_detail", pc.pk)
    return render(
        request,
        "canvassing/admin/form.html",
        {"form": form, "title": _("Edit %(name)s") % {"name": pc.name}},
    )


def phone_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pc = _phone_campaign(request, pk)
    statuses = dict(
        PhoneTarget.objects.filter(phone_campaign=pc)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    outcomes = dict(
        Call.objects.filter(target__phone_campaign=pc)
        .values("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    return render(
        request,
        "canvassing/admin/phone_detail.html",
        {
            "pc": pc,
            "statuses": [
                (label, statuses.get(value, 0)) for value, label in PhoneTarget.Status.choices
            ],
            "outcomes": [
                (label, outcomes.get(value, 0))
                for value, label in Call._meta.get_field("outcome").choices
            ],
        },
    )
