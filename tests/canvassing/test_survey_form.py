"""The survey script in the admin forms: the JSON textarea stays the submitted value (the survey
builder writes it, and it is the fallback without JavaScript), validate_survey judges it; the
door campaign's edit screen saves a new script."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from canvassing.forms import DoorCampaignForm, PhoneCampaignForm
from canvassing.models import DoorCampaign
from canvassing.services import validate_survey
from cocarde.audit.models import AuditEvent
from cocarde.tenancy.models import StaffRole
from tests.fixtures.canvassing import CONSENT_TEXT, SURVEY, bureau

pytestmark = pytest.mark.django_db

BAD_SURVEY = [
    {"key": "will_vote", "label": "Irez-vous voter ?", "type": "yes_no"},
    {"key": "why", "label": "Pourquoi ?", "type": "text", "show_if": {"question": "later"}},
    {"key": "later", "label": "Plus tard", "type": "yes_no"},
]


def door_data(campaign, survey: str) -> dict[str, object]:
    return {
        "campaign": campaign.pk,
        "name": "Printemps",
        "target_kind": "bureaux",
        "bureaux": [bureau("41998_0001").pk],
        "survey": survey,
        "consent_text": CONSENT_TEXT,
        "minutes_per_door": "1.5",
        "area": "",
    }


def test_the_form_accepts_the_raw_json_script(make_campaign, make_staff):
    campaign = make_campaign(commune_codes=["41998"])
    manager = make_staff(campaign, StaffRole.Role.MANAGER)
    form = DoorCampaignForm(door_data(campaign, json.dumps(SURVEY)), user=manager)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["survey"] == validate_survey(SURVEY)
    empty = DoorCampaignForm(door_data(campaign, ""), user=manager)
    assert empty.is_valid(), empty.errors
    assert empty.cleaned_data["survey"] == []


@pytest.mark.parametrize("form_class", [DoorCampaignForm, PhoneCampaignForm])
def test_an_invalid_script_is_refused_with_validate_surveys_message(
    form_class, make_campaign, make_staff
):
    campaign = make_campaign(commune_codes=["41998"])
    manager = make_staff(campaign, StaffRole.Role.MANAGER)
    with pytest.raises(ValidationError) as refused:
        validate_survey(BAD_SURVEY)
    form = form_class(door_data(campaign, json.dumps(BAD_SURVEY)), user=manager)
    assert not form.is_valid()
    assert form.errors["survey"] == refused.value.messages
    assert "Question 2" in form.errors["survey"][0]
    not_json = form_class(door_data(campaign, "[{"), user=manager)
    assert not not_json.is_valid()
    assert "JSON" in not_json.errors["survey"][0]


def test_the_form_renders_the_textarea_and_the_builders_words(make_campaign, make_staff, login):
    campaign = make_campaign(commune_codes=["41998"])
    manager = make_staff(campaign, StaffRole.Role.MANAGER)
    page = login(manager).get(reverse("canvassing_create")).content.decode()
    assert 'name="survey"' in page and "data-survey-source" in page
    assert 'id="id_survey-builder" type="application/json"' in page
    assert "Ajouter une question" in page  # French by default
    assert "canvassing/survey-builder.js" in page
    assert "<script>" not in page.replace('<script type="application/json"', "")


def test_the_edit_screen_saves_a_new_script_and_keeps_the_owner(
    make_field, make_campaign, make_staff, login
):
    field = make_field()
    dc = field.door_campaign
    other = make_campaign("Autre 2027", slug="autre")
    client = login(field.manager)
    page = client.get(reverse("canvassing_edit", args=[dc.pk]))
    assert page.status_code == 200
    assert json.loads(page.context["form"]["survey"].value()) == SURVEY
    survey = [*SURVEY, {"key": "age", "label": "Votre âge ?", "type": "scale"}]
    data = door_data(other, json.dumps(survey))
    data["name"] = "Porte-à-porte printemps"
    data["bureaux"] = list(dc.bureaux.values_list("pk", flat=True))
    data["instructions"] = dc.instructions
    response = client.post(reverse("canvassing_edit", args=[dc.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    dc.refresh_from_db()
    assert dc.survey == validate_survey(survey)
    assert dc.campaign == field.campaign  # the owning campaign cannot be changed here
    event = AuditEvent.objects.get(action="canvassing.campaign.update")
    assert event.data == {"fields": ["survey"]}

    refused = client.post(
        reverse("canvassing_edit", args=[dc.pk]), {**data, "survey": json.dumps(BAD_SURVEY)}
    )
    assert refused.status_code == 200
    assert "Question 2" in refused.context["form"].errors["survey"][0]
    dc.refresh_from_db()
    assert dc.survey == validate_survey(survey)


def test_another_campaigns_staff_cannot_edit(make_field, make_campaign, make_staff, login):
    field = make_field()
    outsider = make_staff(make_campaign("Autre 2027", slug="autre"), StaffRole.Role.MANAGER)
    response = login(outsider).get(reverse("canvassing_edit", args=[field.door_campaign.pk]))
    assert response.status_code == 404
    assert DoorCampaign.objects.get(pk=field.door_campaign.pk).survey == SURVEY
