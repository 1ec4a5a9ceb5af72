"""Page forms: render, validate server-side, write each valid answer into the CRM through one
function, count people on the page, and thank the person with the next action."""

from __future__ import annotations

import pytest
from django.test import Client

from crm.models import Action, Consent, Person
from sites.models import ContactPage, EventPage, PetitionPage, VolunteerPage
from sites.selectors import submission_count
from tests.fixtures.forms import solved

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
    return solved(**{k: v for k, v in data.items() if v is not None})


def test_petition_renders_its_form_consent_count_and_protection(site):
    petition = page_of(site, PetitionPage)
    html = client_for(site).get(petition.url).content.decode()
    for name in ("first_name", "last_name", "email", "phone", "postcode", "consent"):
        assert f'name="{name}"' in html
    assert "campagne de Marie Dupont" in html  # the consent text, placeholders applied
    assert "Signer la pétition" in html and "signature" in html
    assert 'lang="fr"' in html
    # Honeypot and proof of work; the challenge is fetched, so the page itself is cacheable.
    assert 'name="website"' in html and "data-challenge-url=" in html and "crm/pow.js" in html


def test_invalid_answers_are_refused_with_errors_and_nothing_is_stored(site):
    petition = page_of(site, PetitionPage)
    response = client_for(site).post(
        petition.url, valid(email="not-an-email", postcode="??", first_name="")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and "field-error" in html
    assert not Person.objects.exists() and submission_count(petition) == 0


def test_valid_answer_lands_in_the_campaign_crm_counted_and_thanked(site):
    petition = page_of(site, PetitionPage)
    client = client_for(site)
    response = client.post(petition.url, valid(phone="06 12 34 56 78"))
    assert response.status_code == 302
    person = Person.objects.get()
    assert (person.first_names, person.birth_name, person.postcode) == ("Jeanne", "Martin", "41000")
    assert person.emails.get().email == "jeanne@example.org"
    assert person.phones.get().e164 == "+33612345678"
    action = Action.objects.get(person=person, type="petition")
    assert action.source_page_id == petition.pk and action.campaign.slug == "marie-dupont"
    consent = Consent.objects.get(person=person)
    assert consent.campaign.slug == "marie-dupont" and consent.channel == "email"
    assert consent.text.text == petition.consent_text  # the exact words shown, as proof
    assert person.attachments.get().campaign.slug == "marie-dupont"
    assert submission_count(petition) == 1

    thanks = client.get(response["Location"]).content.decode()
    assert "Merci pour votre signature Jeanne" in thanks
    assert "1 personne a signé" in thanks
    assert "Je deviens volontaire" in thanks  # the next action offered

    # The same person signing again is one person and one signature on the counter.
    client.post(petition.url, valid(email="JEANNE@example.org"))
    assert Person.objects.count() == 1 and submission_count(petition) == 1
    client.post(petition.url, valid(email="paul@example.org", first_name="Paul"))
    assert Person.objects.count() == 2 and submission_count(petition) == 2


def test_page_tags_and_double_opt_in(site, mailoutbox, django_capture_on_commit_callbacks):
    petition = page_of(site, PetitionPage)
    petition.crm_tags = "Urgences, Pétition santé"
    petition.double_opt_in = True
    petition.save_revision().publish()
    client = client_for(site)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(petition.url, valid())
    person = Person.objects.get()
    assert sorted(person.person_tags.values_list("tag__name", flat=True)) == [
        "Pétition santé",
        "Urgences",
    ]
    assert Consent.objects.get(person=person).confirmed_at is None  # until the link is followed
    assert [m.to for m in mailoutbox] == [["jeanne@example.org"]]
    assert "confirm" in client.get(response["Location"]).content.decode().lower()


def test_spam_gets_a_clear_message_and_stores_nothing(site):
    petition = page_of(site, PetitionPage)
    client = client_for(site)
    bot = client.post(petition.url, valid(website="http://spam.example"))
    no_proof = client.post(petition.url, {**valid(), "altcha": ""})
    for response in (bot, no_proof):
        assert response.status_code == 400
        assert 'role="alert"' in response.content.decode()
    assert not Person.objects.exists() and submission_count(petition) == 0


def test_scripted_floods_are_slowed_down(site, settings):
    settings.CRM_RATE_LIMIT_PER_IP = (3, 600)
    petition = page_of(site, PetitionPage)
    client = client_for(site)
    statuses = [
        client.post(petition.url, valid(email=f"p{i}@example.org")).status_code for i in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert Person.objects.count() == 3


def test_volunteer_page_requires_a_way_to_help_and_keeps_extra_answers(site):
    volunteer = page_of(site, VolunteerPage)
    client = client_for(site)
    refused = client.post(volunteer.url, valid())
    assert refused.status_code == 200 and not Person.objects.exists()
    client.post(volunteer.url, valid(help_offered=["Phoning", "Porte-à-porte"], q_1="Le week-end"))
    answers = Action.objects.get(type="volunteer").data["answers"]
    assert {"question": "Je peux aider pour", "answer": "Phoning, Porte-à-porte"} in answers
    assert {"question": "Vos disponibilités", "answer": "Le week-end"} in answers
    assert Consent.objects.get().purpose == "volunteering"


def test_a_forged_thank_you_link_shows_no_name(site):
    petition = page_of(site, PetitionPage)
    client = client_for(site)
    client.post(petition.url, valid())
    html = client.get(f"{petition.url}?merci=forged").content.decode()
    assert "Jeanne" not in html and "Merci pour votre signature" in html


def test_public_forms_need_no_csrf_token_but_the_admin_does(site, national_admin, login):
    petition = page_of(site, PetitionPage)
    strict = Client(HTTP_HOST=site.hostname, enforce_csrf_checks=True)
    assert strict.post(petition.url, valid()).status_code == 302
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(national_admin, backend="django.contrib.auth.backends.ModelBackend")
    assert admin.post("/admin/candidate-sites/bulk/", {}).status_code == 403


def test_event_rsvp_and_contact_forms(site):
    client = client_for(site)
    event = EventPage.objects.descendant_of(site.root_page).first()
    html = client.get(event.url).content.decode()
    assert "Je viens" in html and 'name="phone"' not in html  # phone not asked on this page
    assert client.post(event.url, valid(consent=None)).status_code == 302
    assert Action.objects.get().type == "rsvp"
    assert not Consent.objects.exists()  # no box ticked, no consent recorded

    contact = page_of(site, ContactPage)
    refused = client.post(contact.url, valid(consent=None, postcode=""))
    assert refused.status_code == 200 and "Votre message" in refused.content.decode()
    client.post(contact.url, valid(consent=None, postcode="", q_1="Bonjour, je veux aider."))
    message = Action.objects.get(type="contact")
    assert message.data["answers"] == [
        {"question": "Votre message", "answer": "Bonjour, je veux aider."}
    ]
