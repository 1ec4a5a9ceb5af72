"""A minimal petition page for tests, standing in for the sites app's form pages: it renders the
CRM's anti-abuse fields and hands each valid submission to `record_web_action`, as the sites
app's `handle_form_submission` will."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.urls import path

from cocarde.tenancy.models import Campaign
from cocarde.urls import urlpatterns as platform_urlpatterns
from crm.abuse import SubmissionRefused
from crm.models import ActionType
from crm.services.consent import ConsentChoice
from crm.services.web_actions import record_web_action

CONSENT_TEXT = "J'accepte de recevoir les nouvelles de la campagne par email."
PAGE = engines["django"].from_string(
    """{% load crm_forms %}<!DOCTYPE html><html lang="fr"><body>
<h1>Pétition</h1>
{% if done %}<p data-thanks>Merci pour votre signature !</p>{% else %}
{% if error %}<p class="error" data-error>{{ error }}</p>{% endif %}
<form method="post">{% csrf_token %}
<label>Prénom <input name="first_names"></label>
<label>Nom <input name="last_name"></label>
<label>Email <input name="email" type="email"></label>
<label><input type="checkbox" name="consent" value="1"> {{ consent_text }}</label>
{% crm_form_protection %}
<button type="submit">Signer</button>
</form>{% endif %}</body></html>"""
)


class PetitionForm(forms.Form):
    first_names = forms.CharField()
    last_name = forms.CharField()
    email = forms.EmailField()
    consent = forms.BooleanField(required=False)


def petition(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    context = {"consent_text": CONSENT_TEXT, "done": False}
    if request.method == "POST":
        form = PetitionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record_web_action(
                    campaign=campaign,
                    action_type=ActionType.SIGNED_PETITION,
                    identity=data,
                    consents=[ConsentChoice("email", "news", CONSENT_TEXT)]
                    if data["consent"]
                    else [],
                    tags=["Pétition test"],
                    source_url=request.build_absolute_uri(),
                    page_id=1,
                    request=request,
                )
            except SubmissionRefused as refused:
                context["error"] = refused.message
            else:
                context["done"] = True
    return HttpResponse(PAGE.render(context, request))


urlpatterns = [path("petition-test/<slug:slug>/", petition), *platform_urlpatterns]
