"""In a real browser: a visitor signs a candidate's petition (the proof of work runs in the
page), the candidate's staff find the person in their CRM with the consent proof, another
candidate's staff do not; the supporter unsubscribes from their own page."""

from __future__ import annotations

import pytest
from django.test import Client

from cocarde.tenancy.models import StaffRole
from crm.models import Consent, Person
from crm.services.self_service import self_service_token
from tests.crm.petition_urls import CONSENT_TEXT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, user) -> None:
    """Reuse a server-side session (the sign-in flow with TOTP has its own browser test)."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


@pytest.fixture
def petition_site(settings):
    settings.ROOT_URLCONF = "tests.crm.petition_urls"
    settings.CRM_POW_MAX_NUMBER = 20_000


def test_petition_to_the_candidates_crm_with_consent_proof(
    page, live_server, petition_site, make_campaign, make_staff
):
    alpha = make_campaign("Alpha 2027", slug="alpha")
    bravo = make_campaign("Bravo 2027", slug="bravo")
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))

    page.goto(f"{live_server.url}/petition-test/alpha/")
    page.fill("input[name=first_names]", "Héloïse")
    page.fill("input[name=last_name]", "Durand")
    page.fill("input[name=email]", "Heloise.Durand@Example.org")
    page.check("input[name=consent]")
    page.get_by_role("button", name="Signer").click()
    page.wait_for_selector("[data-thanks]")
    assert not errors, errors

    person = Person.objects.get()
    assert person.emails.get().email == "heloise.durand@example.org"

    sign_in(page, live_server, make_staff(alpha, StaffRole.Role.STAFF))
    page.goto(f"{live_server.url}/admin/crm/people/?q=heloise")
    row = page.locator(f'[data-person="{person.pk}"]')
    assert "Héloïse Durand" in row.inner_text()
    row.get_by_role("link").first.click()
    consents = page.locator('[data-crm-section="consents"]')
    consents.get_by_text("version 1").click()  # open the proof
    assert CONSENT_TEXT in consents.inner_text()
    assert "/petition-test/alpha/" in consents.inner_text()
    assert "Alpha 2027" in consents.inner_text()
    assert page.locator('[data-action="petition"]').count() == 1

    sign_in(page, live_server, make_staff(bravo, StaffRole.Role.MANAGER))
    page.goto(f"{live_server.url}/admin/crm/people/?q=heloise")
    assert page.locator("[data-person]").count() == 0
    response = page.goto(f"{live_server.url}/admin/crm/people/{person.pk}/")
    assert response.status == 404


def test_supporter_unsubscribes_from_their_own_page(
    page, live_server, petition_site, make_campaign
):
    alpha = make_campaign("Alpha 2027", slug="alpha")
    page.goto(f"{live_server.url}/petition-test/alpha/")
    page.fill("input[name=first_names]", "Noé")
    page.fill("input[name=last_name]", "Petit")
    page.fill("input[name=email]", "noe@example.org")
    page.check("input[name=consent]")
    page.get_by_role("button", name="Signer").click()
    page.wait_for_selector("[data-thanks]")
    person = Person.objects.get()
    assert Consent.objects.get(person=person, campaign=alpha).is_active

    page.goto(f"{live_server.url}/crm/moi/{self_service_token(person)}/")
    assert "Noé Petit" in page.locator("[data-crm-name]").inner_text()
    page.locator("[data-consent]").get_by_role("button", name="Se désabonner").click()
    page.wait_for_selector("text=vous ne recevrez plus ces messages")
    assert page.locator("[data-consent]").count() == 0
    assert Consent.objects.get(person=person).withdrawn_at is not None
