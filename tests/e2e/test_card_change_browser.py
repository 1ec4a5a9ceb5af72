"""In a real browser: a monthly donor changes the card of their gift on its signed page.

localstripe serves a stand-in for Stripe.js (plain inputs instead of Stripe's iframes, its
confirmCardSetup talks to the localstripe server): the page mounts it and confirms the
SetupIntent exactly as with Stripe.js, then calls our endpoint. When the script cannot load, the
page says so and keeps the amount change and the cancellation.
"""

from __future__ import annotations

import copy

import pytest

from donations.models import RecurringGift
from donations.services import giving
from donations.services.stripe_api import client_for
from tests.donations.helpers import monthly_gift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def allow_localstripe(settings, url: str) -> None:
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["script-src"].append(url)
    policy["DIRECTIVES"]["connect-src"].append(url)
    settings.CONTENT_SECURITY_POLICY = policy


def test_a_donor_changes_the_card_in_the_browser(
    page, live_server, funded_campaign, stripe_settings, settings
):
    settings.STRIPE_JS_URL = f"{stripe_settings.url}/js.stripe.com/v3/"
    allow_localstripe(settings, stripe_settings.url)
    campaign = funded_campaign("Alice Martin")
    gift = monthly_gift(campaign, "b1" * 16)
    page.goto(f"{live_server.url}/donations/mensuel/{giving.manage_token(gift)}/")

    section = page.locator("[data-card-change][data-stripe=ready]")
    section.wait_for(state="attached")
    card = section.locator("[data-card]")
    card.locator("input[placeholder=number]").fill("5555555555554444")
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("34")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("41000")
    page.get_by_role("button", name="Enregistrer la nouvelle carte").click()

    page.locator("[data-card-change][data-result=changed]").wait_for(state="attached")
    assert "prochains prélèvements" in section.locator("[data-info]").inner_text()
    gift.refresh_from_db()
    assert gift.payment_method_last4 == "4444"
    subscription = client_for(campaign).v1.subscriptions.retrieve(gift.stripe_subscription_id)
    assert subscription["default_payment_method"] == gift.stripe_payment_method_id


def test_without_stripe_js_the_page_says_so_and_keeps_the_rest(
    page, live_server, funded_campaign, stripe_settings, settings
):
    settings.STRIPE_JS_URL = f"{live_server.url}/stripe-js-is-offline.js"
    campaign = funded_campaign("Alice Martin")
    gift = monthly_gift(campaign, "b2" * 16)
    page.goto(f"{live_server.url}/donations/mensuel/{giving.manage_token(gift)}/")

    page.locator("[data-card-change][data-stripe=unavailable]").wait_for(state="attached")
    assert page.locator("[data-unavailable]").is_visible()
    assert page.get_by_role("button", name="Enregistrer la nouvelle carte").is_disabled()
    page.get_by_role("button", name="Arrêter mon don mensuel").click()
    page.wait_for_load_state()
    assert RecurringGift.objects.get(pk=gift.pk).status == RecurringGift.Status.CANCELED
