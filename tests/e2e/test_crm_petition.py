"""In a real browser: a visitor signs the petition of a cloned candidate site (the proof of work
runs in the page), the candidate's staff find the person in their CRM with the consent proof,
another candidate's staff do not; the supporter unsubscribes from their own page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from cocarde.tenancy.models import StaffRole
from crm.models import Consent, Person
from crm.services.self_service import self_service_token
from sites.models import PetitionPage
from sites.selectors import campaign_for_site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user) -> None:
    """Reuse a server-side session (the sign-in flow with TOTP has its own browser test)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    page.context.clear_cookies()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


def site_url(live_server, hostname: str, path: str = "/") -> str:
    return f"http://{hostname}:{urlsplit(live_server.url).port}{path}"


def sign_petition(page, live_server, site, first: str, last: str, email: str) -> PetitionPage:
    petition = PetitionPage.objects.descendant_of(site.root_page).get()
    page.goto(site_url(live_server, site.hostname, petition.get_url_parts()[-1]))
    page.fill("#id_first_name", first)
    page.fill("#id_last_name", last)
    page.fill("#id_email", email)
    page.fill("#id_postcode", "41000")
    page.check("#id_consent")
    page.get_by_role("button", name="Je signe").click()
    assert page.locator("h1").inner_text() == f"Merci pour votre signature {first}"
    return petition


@pytest.fixture
def two_candidates(clone, settings):
    settings.CRM_POW_MAX_NUMBER = 20_000
    alpha = clone("Marie Dupont", "marie-dupont.localhost").site
    bravo = clone("Karim Benali", "karim-benali.localhost", commune_name="Vendôme").site
    return alpha, bravo


def test_petition_to_the_candidates_crm_with_consent_proof(
    page, live_server, two_candidates, make_staff
):
    alpha, bravo = two_candidates
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))

    petition = sign_petition(
        page, live_server, alpha, "Héloïse", "Durand", "Heloise.Durand@Example.org"
    )
    assert not errors, errors
    person = Person.objects.get()
    assert person.emails.get().email == "heloise.durand@example.org"

    sign_in(page, live_server, make_staff(campaign_for_site(alpha), StaffRole.Role.STAFF))
    page.goto(f"{live_server.url}/admin/crm/people/?q=heloise")
    row = page.locator(f'[data-person="{person.pk}"]')
    assert "Héloïse Durand" in row.inner_text()
    row.get_by_role("link").first.click()
    consents = page.locator('[data-crm-section="consents"]')
    consents.get_by_text("version 1").click()  # open the proof
    assert petition.consent_text in consents.inner_text()
    assert "marie-dupont.localhost" in consents.inner_text()
    assert "Marie Dupont" in consents.inner_text()
    assert page.locator('[data-action="petition"]').count() == 1

    sign_in(page, live_server, make_staff(campaign_for_site(bravo), StaffRole.Role.MANAGER))
    page.goto(f"{live_server.url}/admin/crm/people/?q=heloise")
    assert page.locator("[data-person]").count() == 0
    response = page.goto(f"{live_server.url}/admin/crm/people/{person.pk}/")
    assert response.status == 404


def test_supporter_unsubscribes_from_their_own_page(page, live_server, two_candidates):
    alpha, _ = two_candidates
    sign_petition(page, live_server, alpha, "Noé", "Petit", "noe@example.org")
    person = Person.objects.get()
    consent = Consent.objects.get(person=person, campaign=campaign_for_site(alpha))
    assert consent.is_active

    page.goto(f"{live_server.url}/crm/moi/{self_service_token(person)}/")
    assert "Noé Petit" in page.locator("[data-crm-name]").inner_text()
    page.locator("[data-consent]").get_by_role("button", name="Se désabonner").click()
    page.wait_for_selector("text=vous ne recevrez plus ces messages")
    assert page.locator("[data-consent]").count() == 0
    assert Consent.objects.get(person=person).withdrawn_at is not None
