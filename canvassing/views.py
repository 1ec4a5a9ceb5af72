"""The canvasser app at /terrain/: my turfs, a turf (map and list in walking order, door card,
survey, consent, new contacts) that works offline, the sync endpoint, and phone banking.

Thin: what a canvasser may see is decided in canvassing.selectors (404 otherwise), what their
records do in canvassing.sync and canvassing.phone."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from canvassing import phone, selectors, sync
from canvassing.models import CallOutcome, Outcome, PhoneTarget

STATIC_DIR = Path(__file__).resolve().parent / "static" / "canvassing"


def _strings() -> dict[str, str]:
    return {
        "pending": _("%(n)s result(s) waiting to be sent"),
        "synced": _("Everything is sent"),
        "offline": _("Offline: results are kept on this phone"),
        "syncing": _("Sending…"),
        "signin": _("Sign in again to send your results"),
        "conflicts": _("To know"),
        "save": _("Save"),
        "cancel": _("Cancel"),
        "who": _("Who answered?"),
        "nobody": _("Nobody in particular"),
        "outcome": _("Outcome"),
        "support": _("Support level"),
        "none": _("Not asked"),
        "note": _("Note"),
        "consent": _("Consent"),
        "newContact": _("New contact"),
        "firstNames": _("First names"),
        "lastName": _("Last name"),
        "email": _("Email"),
        "phone": _("Phone"),
        "addDoor": _("Add a door"),
        "fixDoor": _("Correct this door"),
        "entrance": _("Entrance / stair"),
        "floor": _("Floor"),
        "door": _("Door"),
        "previous": _("Previous visits"),
        "doNotVisit": _("Do not visit"),
        "yes": _("Yes"),
        "no": _("No"),
        "recorded": _("Recorded"),
        "needName": _("Give a name and an email or a phone."),
        "channelEmail": _("Email"),
        "channelSms": _("SMS"),
        "channelPhone": _("Phone calls"),
    }


def _outcomes() -> list[dict[str, str]]:
    return [{"value": value, "label": str(label)} for value, label in Outcome.choices]


@never_cache
@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    turfs = list(selectors.turfs_for(request.user))
    calls = list(phone.phone_campaigns_for(request.user))
    return render(
        request,
        "canvassing/terrain/home.html",
        {"turfs": turfs, "phone_campaigns": calls},
    )


@never_cache
@login_required
@require_GET
def turf(request: HttpRequest, turf_id: int) -> HttpResponse:
    turf = selectors.turf_for(request.user, turf_id)
    config = {
        "turf": turf.pk,
        "dataUrl": reverse("terrain_turf_data", args=[turf.pk]),
        "syncUrl": reverse("terrain_sync"),
        "loginUrl": f"{reverse('account_login')}?next={request.path}",
        "swUrl": reverse("terrain_sw"),
        "tileUrl": settings.TERRITORY_MAP_TILE_URL,
        "tileAttribution": settings.TERRITORY_MAP_TILE_ATTRIBUTION,
        "outcomes": _outcomes(),
        "strings": _strings(),
    }
    return render(request, "canvassing/terrain/turf.html", {"turf": turf, "config": config})


@never_cache
@login_required
@require_GET
def turf_data(request: HttpRequest, turf_id: int) -> JsonResponse:
    turf = selectors.turf_for(request.user, turf_id)
    return JsonResponse(selectors.turf_payload(turf))


@never_cache
@require_POST
def sync_records(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"error": "login"}, status=401)
    try:
        body = json.loads(request.body or b"{}")
        results = sync.apply_records(request.user, body.get("records"))
    except (ValueError, AttributeError):
        return JsonResponse({"error": _("Malformed request.")}, status=400)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse({"results": results})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from /terrain/ so it controls the app's pages (offline shell)."""
    script = (STATIC_DIR / "sw.js").read_text()
    assets = [
        static("canvassing/terrain.js"),
        static("canvassing/terrain.css"),
        static("territory/vendor/leaflet-1.9.4/leaflet.js"),
        static("territory/vendor/leaflet-1.9.4/leaflet.css"),
    ]
    script = script.replace("__ASSETS__", json.dumps(assets))
    response = HttpResponse(script, content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/terrain/"
    response["Cache-Control"] = "no-cache"
    return response


# --- phone banking ---------------------------------------------------------------------------


@never_cache
@login_required
def phone_next(request: HttpRequest, campaign_id: int) -> HttpResponse:
    phone_campaign = phone.phone_campaign_for(request.user, campaign_id)
    target = phone.claim_next(phone_campaign, request.user)
    person = target.person if target else None
    number = person.primary_phone if person else None
    return render(
        request,
        "canvassing/terrain/phone.html",
        {
            "phone_campaign": phone_campaign,
            "target": target,
            "person": person,
            "number": number,
            "outcomes": CallOutcome.choices,
            # One id per form shown: a double submission records one call.
            "call_uuid": str(uuid.uuid4()),
        },
    )


@never_cache
@login_required
@require_POST
def phone_record(request: HttpRequest, campaign_id: int, target_id: int) -> HttpResponse:
    phone_campaign = phone.phone_campaign_for(request.user, campaign_id)
    try:
        target = PhoneTarget.objects.get(
            pk=target_id, phone_campaign=phone_campaign, claimed_by=request.user
        )
    except PhoneTarget.DoesNotExist:
        raise Http404 from None
    answers: dict[str, Any] = {
        q["key"]: request.POST.get(f"q_{q['key']}") for q in phone_campaign.survey
    }
    call_back = parse_datetime(request.POST.get("call_back_at") or "")
    if call_back is not None:
        from django.utils import timezone

        if timezone.is_naive(call_back):
            call_back = timezone.make_aware(call_back)
    try:
        client = request.POST.get("uuid")
        phone.record_call(
            target,
            request.user,
            outcome=request.POST.get("outcome", ""),
            client_uuid=uuid.UUID(client) if client else None,
            answers=answers,
            note=request.POST.get("note", ""),
            call_back_at=call_back,
        )
    except (ValidationError, ValueError) as error:
        return HttpResponseBadRequest(str(error))
    return redirect("terrain_phone", campaign_id=phone_campaign.pk)
