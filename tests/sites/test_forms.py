"""Page forms: render, validate server-side, store every valid answer through one function,
count it, and thank the person with the next action."""

from __future__ import annotations

import pytest
from django.test import Client

from sites.models import FormSubmission, PetitionPage, VolunteerPage
from sites.selectors import submission_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(clone):
    return clone().site


def client_for(site) -> Client:
    return Client(HTTP_HOST=site.hostname)


def page_of(site, model):
    return model.objects.descendant_of(site.root_page).get()


def valid(**changes) -> dict[str, str]:
    data = {
        "first_name": "Jeanne",
        "last_name": "Martin",
        "email": "jeanne@example.org",
        "postcode": "41000",
        "consent": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_petition_renders_its_form_consent_and_count(site):
    petition = page_of(site, PetitionPage)
    html = client_for(site).get(petition.url).content.decode()
    for name in ("first_name", "last_name", "email", "phone", "postcode", "consent"):
        assert f'name="{name}"' in html
    assert "campagne de Marie Dupont" in html  # the consent text, placeholders applied
    assert "Signer la pétition" in html and "signature" in html
    assert 'lang="fr"' in html


def test_invalid_answers_are_refused_with_errors_and_nothing_is_stored(site):
    petition = page_of(site, PetitionPage)
    response = client_for(site).post(
        petition.url, valid(email="not-an-email", postcode="??", first_name="")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and "field-error" in html
    assert FormSubmission.objects.count() == 0 and submission_count(petition) == 0


def test_valid_answer_is_stored_counted_and_thanked(site):
    petition = page_of(site, PetitionPage)
    client = client_for(site)
    response = client.post(petition.url, valid(phone="06 12 34 56 78"))
    assert response.status_code == 302
    submission = FormSubmission.objects.get()
    assert (submission.first_name, submission.email, submission.postcode) == (
        "Jeanne",
        "jeanne@example.org",
        "41000",
    )
    assert submission.kind == "petition" and submission.consent_given
    assert submission.consent_text == petition.consent_text
    assert submission.campaign.slug == "marie-dupont"
    assert submission_count(petition) == 1

    thanks = client.get(response["Location"]).content.decode()
    assert "Merci pour votre signature Jeanne" in thanks
    assert "1 personne a signé" in thanks
    assert "Je deviens volontaire" in thanks  # the next action offered
    client.post(petition.url, valid(email="paul@example.org", first_name="Paul"))
    assert submission_count(petition) == 2


def test_honeypot_answers_like_success_but_stores_nothing(site):
    petition = page_of(site, PetitionPage)
    response = client_for(site).post(petition.url, valid(website="http://spam.example"))
    assert response.status_code == 302
    assert FormSubmission.objects.count() == 0 and submission_count(petition) == 0


def test_volunteer_page_requires_a_way_to_help_and_keeps_extra_answers(site):
    volunteer = page_of(site, VolunteerPage)
    client = client_for(site)
    refused = client.post(volunteer.url, valid())
    assert refused.status_code == 200 and FormSubmission.objects.count() == 0
    client.post(volunteer.url, valid(help_offered=["Phoning", "Porte-à-porte"], q_1="Le week-end"))
    answers = FormSubmission.objects.get().answers
    assert {"question": "Je peux aider pour", "answer": ["Phoning", "Porte-à-porte"]} in answers
    assert {"question": "Vos disponibilités", "answer": "Le week-end"} in answers


def test_a_forged_thank_you_link_shows_no_one_else_s_name(site):
    petition = page_of(site, PetitionPage)
    client = client_for(site)
    client.post(petition.url, valid())
    html = client.get(f"{petition.url}?merci=forged").content.decode()
    assert "Jeanne" not in html and "Merci pour votre signature" in html


def test_scripted_floods_are_slowed_down(site):
    petition = page_of(site, PetitionPage)
    client = client_for(site)
    statuses = [client.post(petition.url, {"first_name": ""}).status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429


def test_public_forms_need_no_csrf_token_but_the_admin_does(site, national_admin, login):
    petition = page_of(site, PetitionPage)
    strict = Client(HTTP_HOST=site.hostname, enforce_csrf_checks=True)
    assert strict.post(petition.url, valid()).status_code == 302
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(national_admin, backend="django.contrib.auth.backends.ModelBackend")
    assert admin.post("/admin/candidate-sites/bulk/", {}).status_code == 403


def test_event_rsvp_and_contact_forms(site):
    from sites.models import ContactPage, EventPage

    client = client_for(site)
    event = EventPage.objects.descendant_of(site.root_page).first()
    html = client.get(event.url).content.decode()
    assert "Je viens" in html and 'name="phone"' not in html  # phone not asked on this page
    assert client.post(event.url, valid(consent=None)).status_code == 302
    assert FormSubmission.objects.get().kind == "rsvp"

    contact = page_of(site, ContactPage)
    refused = client.post(contact.url, valid(consent=None, postcode=""))
    assert refused.status_code == 200 and "Votre message" in refused.content.decode()
    client.post(contact.url, valid(consent=None, postcode="", q_1="Bonjour, je veux aider."))
    message = FormSubmission.objects.get(kind="contact")
    assert message.answers == [{"question": "Votre message", "answer": "Bonjour, je veux aider."}]
