"""Giving through the page's endpoints against a real localstripe server, whose signed webhooks
reach our live server: one-off and monthly gifts end to end, a double-submitted form, refusals."""

from __future__ import annotations

import concurrent.futures

import pytest
import requests
from django.core import mail

from crm.models import Action, ActionType, Person
from donations.models import Donation, DonationAttempt, Receipt, RecurringGift
from donations.services import giving, receipts
from sites.models import DonationPage
from tests.donations.helpers import card_payment_method, pay
from tests.fixtures.donations import make_funded, wait_for, webhook_path, webhook_secret
from tests.fixtures.forms import solved

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(clone, stripe_settings, live_server, election_2027):
    result = clone()
    campaign = make_funded(result.campaign, election=election_2027)
    stripe_settings.register_webhook(
        f"campaign-{campaign.pk}",
        live_server.url + webhook_path(campaign),
        webhook_secret(campaign),
    )
    receipts.add_range(campaign, 1001, 1100, actor=None)
    page = DonationPage.objects.descendant_of(result.site.root_page).get()
    return campaign, page, live_server.url, result.site


def form(token: str, **changes) -> dict[str, str]:
    data = {
        "amount": "50",
        "frequency": "once",
        "method": "card",
        "civility": "Mme",
        "first_name": "Jeanne",
        "last_name": "Martin",
        "email": "jeanne.martin@example.org",
        "street": "3 rue des Lilas",
        "postcode": "41000",
        "city": "Blois",
        "natural_person": "on",
        "french_or_resident": "on",
        "consent_fundraising": "on",
        "form_token": token,
    }
    data.update(changes)
    return solved(**{k: v for k, v in data.items() if v is not None})


def start(base_url: str, page, token: str, **changes):
    return requests.post(
        f"{base_url}/donations/page/{page.pk}/start/", data=form(token, **changes), timeout=30
    )


def test_page_renders_the_form_and_says_when_it_cannot_collect(setup, client):
    campaign, page, base_url, site = setup
    html = requests.get(
        f"{base_url}{page.get_url_parts()[2]}", headers={"Host": site.hostname}, timeout=30
    ).text
    assert 'name="natural_person"' in html and 'name="french_or_resident"' in html
    assert "donations/give.js" in html and "after the" not in html  # French by default
    assert "vous coûte" in html  # "un don de 100 € vous coûte 34 €..."
    status = requests.get(f"{base_url}/donations/page/{page.pk}/status/", timeout=30).json()
    assert status["open"] is True and status["publishable_key"].startswith("pk_test_")

    campaign.financial_agent_name = ""
    campaign.save()
    status = requests.get(f"{base_url}/donations/page/{page.pk}/status/", timeout=30).json()
    assert status["open"] is False and "mandataire" in status["message"]
    refused = start(base_url, page, "a" * 32)
    assert refused.status_code == 409 and "mandataire" in refused.json()["message"]
    assert not DonationAttempt.objects.exists()


def test_one_off_gift_end_to_end(setup):
    campaign, page, base_url, _site = setup
    response = start(base_url, page, "t" * 32, blast="42")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["client_secret"].startswith("pi_") and result["remaining_after_cents"] == 455_000
    attempt = DonationAttempt.objects.get(uuid=result["attempt"])
    assert attempt.status == DonationAttempt.Status.PENDING and attempt.person is not None

    pay(campaign, attempt.payment_intent_id)
    donation = wait_for(lambda: Donation.objects.filter(campaign=campaign).first(), "the webhook")
    assert donation.amount_cents == 5000 and donation.method == "card"
    assert donation.payment_intent_id == attempt.payment_intent_id
    assert donation.blast_id == "42" and donation.page_id == page.pk
    person = Person.objects.get(emails__email="jeanne.martin@example.org")
    action = Action.objects.get(person=person, type=ActionType.DONATED)
    assert action.data["amount"] == "50.00" and action.data["recurring"] is False
    assert {pt.tag.name for pt in person.person_tags.all()} >= {"Donateur"}
    receipt = Receipt.objects.get(donation=donation)
    assert receipt.number == 1001
    wait_for(lambda: mail.outbox, "the thank-you email (sent after commit)")
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments[0][0] == "recu-1001.pdf"
    assert mail.outbox[0].attachments[0][1][:4] == b"%PDF"
    status = requests.get(
        f"{base_url}/donations/tentative/{attempt.uuid}/", params={"token": "t" * 32}, timeout=30
    ).json()
    assert status["status"] == "succeeded"


def test_double_submitted_form_makes_one_attempt_and_one_payment(setup):
    campaign, page, base_url, _site = setup
    token = "d" * 32
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: start(base_url, page, token), range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    first, second = (a.json() for a in answers)
    assert first["attempt"] == second["attempt"]
    assert first["client_secret"] == second["client_secret"]
    assert DonationAttempt.objects.count() == 1


def test_monthly_gift_through_a_subscription(setup):
    campaign, page, base_url, _site = setup
    token = "m" * 32
    result = start(base_url, page, token, frequency="monthly", amount="20").json()
    assert result["ok"] and result["next"] == "subscribe"
    response = requests.post(
        f"{base_url}/donations/tentative/{result['attempt']}/mensuel/",
        data={"form_token": token, "payment_method": card_payment_method(campaign)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    gift = RecurringGift.objects.get()
    assert gift.stripe_subscription_id.startswith("sub_") and gift.amount_cents == 2000
    donation = wait_for(lambda: Donation.objects.filter(recurring_gift=gift).first(), "the invoice")
    assert donation.amount_cents == 2000 and donation.invoice_id.startswith("in_")
    gift.refresh_from_db()
    assert gift.status == RecurringGift.Status.ACTIVE
    assert Action.objects.get(type=ActionType.DONATED).data["recurring"] is True
    wait_for(lambda: mail.outbox, "the thank-you email (sent after commit)")
    assert "/donations/mensuel/" in mail.outbox[0].body

    # The donor's signed link: change the amount, then stop the gift.
    link = f"{base_url}/donations/mensuel/{giving.manage_token(gift)}/"
    assert (
        requests.post(link, data={"action": "amount", "amount": "30"}, timeout=30).status_code
        == 200
    )
    gift.refresh_from_db()
    assert gift.amount_cents == 3000
    requests.post(link, data={"action": "cancel"}, timeout=30)
    gift.refresh_from_db()
    assert gift.status == RecurringGift.Status.CANCELED
    assert (
        requests.get(f"{base_url}/donations/mensuel/forged-token/", timeout=30).status_code == 404
    )


def test_refusals_are_explained_and_reserve_nothing(setup):
    campaign, page, base_url, _site = setup
    no_attestation = start(base_url, page, "n" * 32, natural_person=None)
    assert no_attestation.status_code == 409
    assert "personnes physiques" in no_attestation.json()["message"]
    too_much = start(base_url, page, "o" * 32, amount="4601")
    assert too_much.status_code == 409
    body = too_much.json()
    assert body["code"] == "cap" and body["remaining_cents"] == 460_000
    assert "4 600" in body["message"]
    assert not DonationAttempt.objects.exists()


def test_monthly_gift_by_sepa_direct_debit(setup):
    from donations.services.stripe_api import client_for

    campaign, page, base_url, _site = setup
    token = "s" * 32
    result = start(
        base_url, page, token, frequency="monthly", method="sepa_debit", amount="15"
    ).json()
    assert result["ok"], result
    mandate = client_for(campaign).v1.payment_methods.create(
        params={
            "type": "sepa_debit",
            "sepa_debit": {"iban": "FR1420041010050500013M02606"},
            "billing_details": {"name": "Jeanne Martin", "email": "jeanne.martin@example.org"},
        }  # type: ignore[typeddict-item]
    )
    response = requests.post(
        f"{base_url}/donations/tentative/{result['attempt']}/mensuel/",
        data={"form_token": token, "payment_method": mandate.id},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    donation = wait_for(lambda: Donation.objects.filter(campaign=campaign).first(), "the debit")
    assert donation.method == "sepa_debit" and donation.amount_cents == 1500
    assert RecurringGift.objects.get().status == RecurringGift.Status.ACTIVE


def test_sepa_is_for_monthly_gifts(setup):
    _campaign, page, base_url, _site = setup
    refused = start(base_url, page, "u" * 32, method="sepa_debit")
    assert refused.status_code == 409 and refused.json()["code"] == "method"
