"""Public donation endpoints, mounted at /donations/ on every site (cocarde/urls.py).

The donation page's HTML is cached for everyone (sites.cache), so everything personal or
short-lived comes from these JSON endpoints: whether the campaign collects, the Stripe client
secret, what the donor may still give.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from cocarde.tenancy.models import Campaign
from crm import abuse
from crm.models import Channel, Purpose
from crm.services.consent import ConsentChoice
from donations.forms import DonationForm, parse_amount_cents
from donations.models import Donation, DonationAttempt, RecurringGift
from donations.services import card_change, giving, rules, webhooks
from donations.services.rules import GiftRefused

logger = logging.getLogger(__name__)


def _page_and_campaign(page_id: int) -> tuple[Any, Campaign]:
    from sites.models import DonationPage
    from sites.selectors import campaign_for_page

    page = get_object_or_404(DonationPage.objects.live(), pk=page_id)
    campaign = campaign_for_page(page)
    if campaign is None:
        raise Http404
    return page, campaign


def page_status(page: Any, campaign: Campaign) -> dict[str, Any]:
    own = rules.settings_for(campaign)
    problem = rules.collection_problem(campaign, online=True)
    raised = (
        Donation.objects.filter(campaign=campaign, page_id=page.pk).aggregate(
            total=Sum("amount_cents", default=0) - Sum("refunded_cents", default=0)
        )["total"]
        if own.goal_cents
        else None
    )
    policy = rules.rules_for(campaign)
    return {
        "open": not problem,
        "message": problem,
        "publishable_key": own.stripe_publishable_key if not problem else "",
        "goal_cents": own.goal_cents,
        "raised_cents": raised,
        "cap_cents": policy.cap_cents,
        "tax_reduction_percent": own.tax_reduction_percent,
    }


@require_GET
def status(request: HttpRequest, page_id: int) -> JsonResponse:
    page, campaign = _page_and_campaign(page_id)
    response = JsonResponse(page_status(page, campaign))
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # public, session-less: the cached page has no CSRF token; abuse checks apply
@require_POST
def start(request: HttpRequest, page_id: int) -> JsonResponse:
    """Validate the form, check the rules under the donor's lock, create the payment."""
    page, campaign = _page_and_campaign(page_id)
    form = DonationForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "errors": form.errors.get_json_data()}, status=400)
    data = form.cleaned_data
    if not DonationAttempt.objects.filter(form_token=data["form_token"]).exists():
        try:
            abuse.check_submission(
                request, targets=[data["email"].lower()], scope=f"donation:{campaign.pk}:{page.pk}"
            )
        except abuse.SubmissionRefused as error:
            return JsonResponse({"ok": False, "message": error.message}, status=429)
    consents = []
    if data.get("consent_fundraising"):
        consents.append(
            ConsentChoice(
                Channel.EMAIL, Purpose.FUNDRAISING, str(form.fields["consent_fundraising"].label)
            )
        )
    gift = giving.GiftRequest(
        amount_cents=data["amount"],
        frequency=data["frequency"],
        method=data.get("method") or "card",
        form_token=data["form_token"],
        identity=form.identity(),
        consents=consents,
        page_id=page.pk,
        source_url=page.full_url or "",
        blast_id=data.get("blast") or "",
    )
    try:
        started = giving.start_gift(campaign, gift)
    except GiftRefused as refusal:
        return JsonResponse(
            {
                "ok": False,
                "code": refusal.code,
                "message": refusal.message,
                "remaining_cents": refusal.remaining_cents,
            },
            status=409,
        )
    own = rules.settings_for(campaign)
    response = JsonResponse(
        {"ok": True, "publishable_key": own.stripe_publishable_key, **started.as_json()}
    )
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
def subscribe(request: HttpRequest, attempt: str) -> JsonResponse:
    """Monthly gift: Stripe.js created the payment method; we create the subscription."""
    found = DonationAttempt.objects.filter(uuid=attempt).select_related("campaign").first()
    form_token = request.POST.get("form_token", "")
    if found is None or form_token != found.form_token:
        raise Http404
    payment_method = request.POST.get("payment_method", "")
    if not payment_method.startswith(("pm_", "src_", "card_")):
        return JsonResponse({"ok": False, "message": _("The card was not accepted.")}, status=400)
    try:
        started = giving.subscribe(found.campaign, found, payment_method)
    except GiftRefused as refusal:
        return JsonResponse({"ok": False, "message": refusal.message}, status=409)
    return JsonResponse({"ok": True, **started.as_json()})


@require_GET
def attempt_status(request: HttpRequest, attempt: str) -> JsonResponse:
    """What the page shows after paying: the webhook may take a moment."""
    found = DonationAttempt.objects.filter(uuid=attempt).first()
    if found is None or request.GET.get("token") != found.form_token:
        raise Http404
    return JsonResponse({"status": found.status})


@csrf_exempt  # Stripe signs the body instead
@require_POST
def stripe_webhook(request: HttpRequest, campaign_id: int) -> HttpResponse:
    try:
        result = webhooks.receive(
            campaign_id, request.body, request.headers.get("Stripe-Signature", "")
        )
    except webhooks.InvalidDelivery as error:
        logger.warning("donations: rejected webhook for campaign %s: %s", campaign_id, error)
        return HttpResponse("invalid signature", status=400, content_type="text/plain")
    return HttpResponse(result, status=200, content_type="text/plain")


@csrf_exempt  # the signed link is the proof; the form posts back to itself
def manage_monthly(request: HttpRequest, token: str) -> HttpResponse:
    gift = giving.gift_from_token(token)
    if gift is None:
        raise Http404
    message = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                gift = giving.cancel_monthly(gift, actor=None)
                message = _("Your monthly gift is cancelled. Thank you for your support.")
            elif request.POST.get("action") == "amount":
                cents = parse_amount_cents(request.POST.get("amount", ""))
                gift = giving.change_monthly_amount(gift, cents, actor=None)
                message = _("Your monthly gift is updated.")
        except GiftRefused as refusal:
            message = refusal.message
        except ValidationError as error:
            message = error.messages[0]
    response = render(
        request,
        "donations/manage_monthly.html",
        {
            "gift": gift,
            "message": message,
            "canceled": gift.status == RecurringGift.Status.CANCELED,
            "card_change": card_change.start_card_change(gift),
            "card_change_url": reverse("donations:change_card", args=[token]),
            "stripe_js_url": settings.STRIPE_JS_URL,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # the signed link is the proof, as for the manage page that calls it
@require_POST
def change_card(request: HttpRequest, token: str) -> JsonResponse:
    """Stripe.js confirmed the page's SetupIntent: make its card the gift's."""
    gift = giving.gift_from_token(token)
    if gift is None:
        raise Http404
    try:
        changed = card_change.change_payment_method(
            gift, request.POST.get("setup_intent", ""), actor=None
        )
    except GiftRefused as refusal:
        status = {"customer": 403, "setup_intent": 400, "method": 400, "card": 400, "stripe": 503}
        return JsonResponse(
            {"ok": False, "code": refusal.code, "message": refusal.message},
            status=status.get(refusal.code, 409),
        )
    response = JsonResponse(
        {
            "ok": True,
            "message": changed.message,
            "overdue": changed.overdue,
            "method": changed.gift.method,
            "brand": changed.gift.payment_method_brand,
            "last4": changed.gift.payment_method_last4,
        }
    )
    response["Cache-Control"] = "no-store"
    return response
