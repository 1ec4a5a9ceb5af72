"""In a real browser: a supporter gives on a candidate's donation page.

Stripe.js cannot load offline (and localstripe's stand-in only fakes 3-D Secure), so the page
runs exactly as when Stripe's script is unavailable: it submits the form to our start endpoint,
gets the PaymentIntent, and waits for the payment. The test then does what Stripe.js does with
the test card (attach the card, confirm the PaymentIntent on localstripe); localstripe sends its
signed webhook to our live server, and the page, polling the attempt, thanks the donor.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from donations.models import Donation, DonationAttempt, Receipt
from donations.services import receipts
from sites.models import DonationPage
from tests.donations.helpers import pay
from tests.fixtures.donations import make_funded, wait_for, webhook_path, webhook_secret

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supporter_gives_through_the_page(
    page, live_server, clone, stripe_settings, settings, election_2027
):
    settings.STRIPE_JS_URL = f"{live_server.url}/stripe-js-is-offline.js"
    result = clone("Marie Dupont", "marie-dupont.localhost")
    campaign = make_funded(result.campaign, election=election_2027)
    stripe_settings.register_webhook(
        f"browser-{campaign.pk}", live_server.url + webhook_path(campaign), webhook_secret(campaign)
    )
    receipts.add_range(campaign, 1, 10, actor=None)
    donation_page = DonationPage.objects.descendant_of(result.site.root_page).get()
    port = urlsplit(live_server.url).port
    page.goto(f"http://marie-dupont.localhost:{port}{donation_page.get_url_parts()[-1]}")

    form = page.locator("[data-form]")
    form.wait_for(state="visible")
    assert "vous coûte" in page.locator("[data-tax-note]").inner_text()
    page.check("input[name=amount][value='50']")
    page.fill("#id_first_name", "Jeanne")
    page.fill("#id_last_name", "Martin")
    page.fill("#id_email", "jeanne.martin@example.org")
    page.fill("#id_street", "3 rue des Lilas")
    page.fill("#id_postcode", "41000")
    page.fill("#id_city", "Blois")
    page.check("input[name=natural_person]")
    page.check("input[name=french_or_resident]")
    page.get_by_role("button", name="Donner").click()

    root = page.locator("[data-donation]")
    page.locator("[data-donation][data-attempt]").wait_for(state="attached")
    attempt = DonationAttempt.objects.get(uuid=root.get_attribute("data-attempt"))
    assert attempt.amount_cents == 5000 and attempt.person is not None
    assert page.locator("[data-info]").is_visible()  # waiting for the payment

    pay(campaign, attempt.payment_intent_id)  # what Stripe.js does with the test card
    page.locator("[data-thanks]").wait_for(state="visible", timeout=30_000)
    assert root.get_attribute("data-result") == "succeeded"
    donation = wait_for(lambda: Donation.objects.filter(campaign=campaign).first(), "the gift")
    assert donation.amount_cents == 5000 and donation.page_id == donation_page.pk
    assert Receipt.objects.get(donation=donation).number == 1
