"""Public endpoints: one-click unsubscribe (RFC 8058) and provider webhooks. Thin callers of
messaging.services; the admin screens are in messaging.admin_views."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.html import escape
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging.models import Delivery
from messaging.services import events
from messaging.services.tokens import read_delivery_token


@csrf_exempt  # mail clients POST here (RFC 8058); the signed token is the proof
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    delivery_id = read_delivery_token(token)
    delivery = (
        Delivery.objects.select_related("blast__campaign").filter(pk=delivery_id).first()
        if delivery_id
        else None
    )
    if delivery is None:
        raise Http404
    done = False
    if request.method == "POST":
        events.unsubscribe(delivery, source="unsubscribe link")
        done = True
    return render(
        request,
        "messaging/public/unsubscribe.html",
        {"done": done, "delivery": delivery, "campaign": delivery.blast.campaign},
    )


@never_cache
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    """The footer link: the recipient's own page in the CRM, through a fresh signed link (the
    one in the message never expires, the page's own link does)."""
    from django.shortcuts import redirect

    from crm.services.self_service import self_service_token

    delivery_id = read_delivery_token(token)
    delivery = Delivery.objects.filter(pk=delivery_id).select_related("person").first()
    if delivery is None or delivery.person is None:
        raise Http404
    return redirect(f"/crm/moi/{self_service_token(delivery.person)}/")


def _public_url(request: HttpRequest) -> str:
    """The URL Twilio signed: our public https address (we may sit behind a proxy)."""
    return settings.MESSAGING_PUBLIC_URL.rstrip("/") + request.get_full_path()


@csrf_exempt
@require_POST
def sendgrid_events(request: HttpRequest) -> HttpResponse:
    try:
        counts = events.handle_sendgrid(
            request.body,
            request.headers.get("X-Twilio-Email-Event-Webhook-Signature", ""),
            request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp", ""),
        )
    except events.BadSignature:
        return HttpResponse(status=403)
    except (ValueError, UnicodeDecodeError):
        return HttpResponse(status=400)
    return JsonResponse(counts)


def _twilio_params(request: HttpRequest) -> dict[str, str]:
    return {k: request.POST[k] for k in request.POST}


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    params = _twilio_params(request)
    try:
        events.verify_twilio(
            _public_url(request), params, request.headers.get("X-Twilio-Signature", "")
        )
    except events.BadSignature:
        return HttpResponse(status=403)
    events.apply_twilio_status(params, request.GET.get("d", ""))
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    params = _twilio_params(request)
    try:
        events.verify_twilio(
            _public_url(request), params, request.headers.get("X-Twilio-Signature", "")
        )
    except events.BadSignature:
        return HttpResponse(status=403)
    outcome = events.apply_twilio_inbound(params)
    reply = ""
    if outcome == "help":
        reply = f"<Message>{escape(events.help_text())}</Message>"
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{reply}</Response>',
        content_type="text/xml",
    )
