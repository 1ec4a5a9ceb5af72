"""Public pages of the CRM: the supporter's own page (signed link), one-click unsubscribe and
double opt-in confirmation. Thin: every change goes through `crm.services`."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from crm import abuse
from crm.forms import RequestLinkForm, SelfServiceForm
from crm.models import Channel, Consent, Person
from crm.services import people as people_services
from crm.services.consent import confirm_consents, withdraw_consent
from crm.services.gdpr import erase_person, export_person
from crm.services.self_service import (
    person_from_self_service_token,
    read_unsubscribe_token,
    send_self_service_link,
)
from crm.services.web_actions import public_base_url, read_confirmation_token


def request_link(request: HttpRequest) -> HttpResponse:
    """Ask for the link to one's own page. The answer never says whether we know the address."""
    form = RequestLinkForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        try:
            abuse.check_submission(request, targets=[email], scope="self-service")
        except abuse.SubmissionRefused as refused:
            form.add_error(None, refused.message)
        else:
            send_self_service_link(
                email, base_url=public_base_url(request), language=get_language() or "fr"
            )
            sent = True
    return render(request, "crm/public/request_link.html", {"form": form, "sent": sent})


def _person_or_404(token: str) -> Person:
    person = person_from_self_service_token(token)
    if person is None:
        raise Http404
    return person


def my_data(request: HttpRequest, token: str) -> HttpResponse:
    person = _person_or_404(token)
    initial = {
        "first_names": person.first_names,
        "birth_name": person.birth_name,
        "usage_name": person.usage_name,
        "phones": "\n".join(str(p) for p in person.phones.all()),
        "street_number": person.street_number,
        "street_name": person.street_name,
        "address_complement": person.address_complement,
        "postcode": person.postcode,
        "commune_name": person.commune_name,
    }
    form = SelfServiceForm(initial=initial)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "update":
            form = SelfServiceForm(request.POST)
            if form.is_valid():
                data = dict(form.cleaned_data)
                phones = [p for p in data.pop("phones").splitlines() if p.strip()]
                try:
                    people_services.update_person(person, actor=None, phones=phones, **data)
                except ValidationError as error:
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    messages.success(request, _("Your details were updated."))
                    return redirect(request.path)
        elif action == "withdraw":
            consent = person.consents.filter(pk=request.POST.get("consent", 0)).first()
            if consent is not None:
                withdraw_consent(
                    person,
                    consent.campaign_id,
                    consent.channel,
                    actor=None,
                    source=_("Supporter's own page"),
                )
                messages.success(request, _("Done: you will no longer receive these messages."))
            return redirect(request.path)
        elif action == "erase" and request.POST.get("confirm") == "yes":
            erase_person(person, actor=None, reason="self-service")
            return render(request, "crm/public/erased.html")
    consents = person.consents.filter(withdrawn_at__isnull=True).select_related("campaign", "text")
    return render(
        request,
        "crm/public/my_data.html",
        {
            "person": person,
            "form": form,
            "consents": consents,
            "emails": person.emails.all(),
            "campaigns": {a.campaign for a in person.attachments.select_related("campaign")},
            "token": token,
        },
    )


def my_data_export(request: HttpRequest, token: str) -> HttpResponse:
    person = _person_or_404(token)
    response = HttpResponse(
        json.dumps(export_person(person), ensure_ascii=False, indent=2),
        content_type="application/json",
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    from cocarde.audit.services import record_event

    record_event("crm.person.self_export", actor=None, target=person)
    return response


@csrf_exempt  # mail clients POST here for one-click unsubscribe (RFC 8058); the token is the proof
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = read_unsubscribe_token(token)
    if found is None:
        raise Http404
    person, campaign_id, channel = found
    if channel not in Channel.values:
        raise Http404
    done = False
    if request.method == "POST":
        withdraw_consent(
            person,
            campaign_id,
            channel,
            actor=None,
            source=_("Unsubscribe link in a message"),
        )
        done = True
    return render(request, "crm/public/unsubscribe.html", {"done": done, "channel": channel})


def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        person_uuid, consent_ids = read_confirmation_token(token)
    except signing.BadSignature:
        return render(request, "crm/public/confirm.html", {"invalid": True}, status=400)
    person = Person.objects.filter(uuid=person_uuid).first()
    if person is None:
        raise Http404
    done = False
    if request.method == "POST":
        confirm_consents(consent_ids, person=person)
        done = True
    pending = Consent.objects.filter(pk__in=consent_ids, person=person).select_related("campaign")
    return render(request, "crm/public/confirm.html", {"done": done, "consents": pending})


@never_cache
def pow_challenge(request: HttpRequest) -> JsonResponse:
    """A fresh proof-of-work challenge for a public form (fetched by crm/pow.js)."""
    return JsonResponse(abuse.new_challenge())
