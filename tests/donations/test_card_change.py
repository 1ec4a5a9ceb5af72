"""A monthly donor changes the card of their gift through the signed link, against a real
localstripe server.

Stripe.js cannot load here (offline), so the tests do what it does in the donor's browser
(stripe.confirmCardSetup / confirmSepaDebitSetup): confirm the page's SetupIntent on localstripe
with a test payment method. Everything after that is the page's own call to our endpoint.
"""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from django.test import Client

from cocarde.audit.models import AuditEvent
from donations.models import Donation, RecurringGift
from donations.services import giving
from donations.services.stripe_api import as_id, client_for
from sites.selectors import site_for_campaign
from tests.donations.helpers import SEPA, TEST_CARD, monthly_gift
from tests.fixtures.donations import event_body, make_funded, sign, webhook_path, webhook_secret

pytestmark = pytest.mark.django_db(transaction=True)


def client_secret(html: str) -> str:
    found = re.search(r'data-client-secret="([^"]+)"', html)
    assert found, "the page offers no card change"
    return found.group(1)


def confirm_setup(campaign, secret: str, payment_method: dict | None = None) -> str:
    """What stripe.confirmCardSetup(client_secret, {payment_method: {card}}) does."""
    stripe = client_for(campaign)
    intent_id = secret.split("_secret_")[0]
    method = stripe.v1.payment_methods.create(
        params=payment_method
        or {"type": "card", "card": {**TEST_CARD, "number": "5555555555554444"}}  # type: ignore[arg-type]
    )
    intent = stripe.v1.setup_intents.confirm(
        intent_id, params={"payment_method": method.id, "client_secret": secret}
    )
    assert intent.status == "succeeded"
    return intent_id


def manage_path(gift: RecurringGift) -> str:
    return f"/donations/mensuel/{giving.manage_token(gift)}/"


# A card Stripe attaches, then declines at every charge (a card the bank has since blocked).
DECLINED_CARD = {"type": "card", "card": {**TEST_CARD, "number": "4000000000000341"}}


def change_card(web: Client, gift: RecurringGift, payment_method: dict | None = None):
    """The donor opens the page, Stripe.js confirms its SetupIntent, the page calls us."""
    secret = client_secret(web.get(manage_path(gift)).content.decode())
    intent_id = confirm_setup(gift.campaign, secret, payment_method)
    return web.post(f"{manage_path(gift)}carte/", {"setup_intent": intent_id})


def deliver(campaign, event_type: str, obj: dict) -> None:
    body = event_body(event_type, obj)
    answer = Client().post(
        webhook_path(campaign),
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, webhook_secret(campaign)),
    )
    assert answer.status_code == 200, answer.content


@pytest.fixture
def campaign(funded_campaign):
    return funded_campaign("Alice Martin")


def test_the_donor_changes_the_card_and_stripe_charges_it_from_now_on(campaign):
    gift = monthly_gift(campaign, "c1" * 16)
    old_method = gift.stripe_payment_method_id
    assert gift.method == "card" and old_method.startswith("pm_")
    web = Client()

    page = web.get(manage_path(gift))
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert "Changer de carte" in html  # French by default
    assert "donations/stripe-loader.js" in html and "donations/manage-card.js" in html
    assert 'data-methods="card"' in html  # no SEPA offered to a card gift
    secret = client_secret(html)
    stripe = client_for(campaign)
    intent = stripe.v1.setup_intents.retrieve(secret.split("_secret_")[0])
    assert intent.customer == gift.stripe_customer_id and intent.usage == "off_session"
    assert intent.payment_method_types == ["card"]

    intent_id = confirm_setup(campaign, secret)
    answer = web.post(f"{manage_path(gift)}carte/", {"setup_intent": intent_id})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["ok"] and body["last4"] == "4444" and body["brand"] == "visa"

    # Read back at Stripe: the subscription and the customer now charge the new card.
    new_method = stripe.v1.setup_intents.retrieve(intent_id).payment_method
    subscription = stripe.v1.subscriptions.retrieve(gift.stripe_subscription_id)
    customer = stripe.v1.customers.retrieve(gift.stripe_customer_id)
    assert subscription["default_payment_method"] == new_method != old_method
    assert customer.invoice_settings.default_payment_method == new_method
    assert stripe.v1.payment_methods.retrieve(new_method).customer == gift.stripe_customer_id
    gift.refresh_from_db()
    assert gift.stripe_payment_method_id == new_method and gift.payment_method_last4 == "4444"
    assert gift.stripe_setup_intent_id == intent_id and gift.payment_method_changed_at
    event = AuditEvent.objects.get(action="donations.monthly_payment_method")
    assert event.target_id == str(gift.pk) and event.data["method"] == "card"
    assert "se terminant par 4444" in web.get(manage_path(gift)).content.decode()

    # The same confirmation again (a double click, a retried request): nothing more happens.
    again = web.post(f"{manage_path(gift)}carte/", {"setup_intent": intent_id})
    assert again.status_code == 200 and again.json()["last4"] == "4444"
    assert AuditEvent.objects.filter(action="donations.monthly_payment_method").count() == 1
    assert (
        gift.payment_method_changed_at
        == RecurringGift.objects.get(pk=gift.pk).payment_method_changed_at
    )


def test_an_older_card_change_replayed_is_refused_and_changes_nothing(campaign):
    gift = monthly_gift(campaign, "c8" * 16)
    web = Client()
    stripe = client_for(campaign)
    path = f"{manage_path(gift)}carte/"
    first = confirm_setup(campaign, client_secret(web.get(manage_path(gift)).content.decode()))
    assert web.post(path, {"setup_intent": first}).status_code == 200
    time.sleep(1 - time.time() % 1)  # Stripe's `created` counts seconds: the next page is later
    second = confirm_setup(
        campaign,
        client_secret(web.get(manage_path(gift)).content.decode()),
        {"type": "card", "card": {**TEST_CARD, "number": "4000056655665556"}},
    )
    assert web.post(path, {"setup_intent": second}).json()["last4"] == "5556"
    gift.refresh_from_db()
    customer = stripe.v1.customers.retrieve(gift.stripe_customer_id).invoice_settings
    subscription = stripe.v1.subscriptions.retrieve(gift.stripe_subscription_id)
    assert subscription["default_payment_method"] == gift.stripe_payment_method_id

    # The first request, replayed (a browser retry, a proxy): refused, nothing changes.
    replayed = web.post(path, {"setup_intent": first})
    assert replayed.status_code == 409 and replayed.json()["code"] == "outdated"
    assert "plus récent" in replayed.json()["message"]
    after = RecurringGift.objects.get(pk=gift.pk)
    assert after.payment_method_last4 == "5556" and after.stripe_setup_intent_id == second
    assert after.payment_method_changed_at == gift.payment_method_changed_at
    assert stripe.v1.customers.retrieve(gift.stripe_customer_id).invoice_settings == customer
    assert stripe.v1.subscriptions.retrieve(gift.stripe_subscription_id) == subscription
    assert AuditEvent.objects.filter(action="donations.monthly_payment_method").count() == 2

    # The current one replayed is still an idempotent success.
    assert web.post(path, {"setup_intent": second}).json()["last4"] == "5556"
    # A current method set before its SetupIntent's time was recorded: read back from Stripe.
    RecurringGift.objects.filter(pk=gift.pk).update(stripe_setup_intent_created=None)
    assert web.post(path, {"setup_intent": first}).status_code == 409
    assert RecurringGift.objects.get(pk=gift.pk).stripe_setup_intent_id == second


def test_a_forged_link_or_another_donors_card_changes_nothing(campaign):
    gift = monthly_gift(campaign, "c2" * 16)
    other = monthly_gift(campaign, "c3" * 16, email="paul.durand@example.org", first_name="Paul")
    web = Client()
    stripe = client_for(campaign)
    before = stripe.v1.customers.retrieve(gift.stripe_customer_id).invoice_settings

    # The other donor's page, confirmed with the other donor's card...
    intent_id = confirm_setup(campaign, client_secret(web.get(manage_path(other)).content.decode()))
    # ...then sent to this gift's endpoint: refused, clearly, and nothing changes anywhere.
    refused = web.post(f"{manage_path(gift)}carte/", {"setup_intent": intent_id})
    assert refused.status_code == 403
    assert refused.json()["code"] == "customer" and "n’appartient pas" in refused.json()["message"]
    assert stripe.v1.customers.retrieve(gift.stripe_customer_id).invoice_settings == before
    subscription = stripe.v1.subscriptions.retrieve(gift.stripe_subscription_id)
    assert subscription.to_dict()["default_payment_method"] is None
    assert RecurringGift.objects.get(pk=gift.pk).stripe_setup_intent_id == ""
    assert not AuditEvent.objects.filter(action="donations.monthly_payment_method").exists()

    assert (
        web.post("/donations/mensuel/forged-token/carte/", {"setup_intent": intent_id}).status_code
        == 404
    )
    assert web.get("/donations/mensuel/forged-token/").status_code == 404
    assert web.post(f"{manage_path(gift)}carte/", {"setup_intent": "pi_123"}).status_code == 400
    unconfirmed = client_secret(web.get(manage_path(gift)).content.decode()).split("_secret_")[0]
    not_yet = web.post(f"{manage_path(gift)}carte/", {"setup_intent": unconfirmed})
    assert not_yet.status_code == 409 and not_yet.json()["code"] == "not_confirmed"
    assert RecurringGift.objects.get(pk=gift.pk).stripe_setup_intent_id == ""


def test_a_sepa_gift_may_take_a_new_mandate_or_a_card_and_later_months_say_so(campaign):
    gift = monthly_gift(campaign, "c4" * 16, method="sepa_debit")
    web = Client()
    html = web.get(manage_path(gift)).content.decode()
    assert 'data-methods="card sepa_debit"' in html and "IBAN" in html
    new_iban = {**SEPA, "sepa_debit": {"iban": "DE89370400440532013000"}}
    intent_id = confirm_setup(campaign, client_secret(html), new_iban)
    answer = web.post(f"{manage_path(gift)}carte/", {"setup_intent": intent_id})
    assert answer.status_code == 200 and answer.json()["method"] == "sepa_debit"
    gift.refresh_from_db()
    assert gift.payment_method_last4 == "3000" and gift.payment_method_brand == ""

    # Then a card: the months Stripe charges from now on are recorded as card payments.
    intent_id = confirm_setup(campaign, client_secret(web.get(manage_path(gift)).content.decode()))
    assert web.post(f"{manage_path(gift)}carte/", {"setup_intent": intent_id}).status_code == 200
    gift.refresh_from_db()
    assert gift.method == "card" and gift.attempt.method == "sepa_debit"
    assert 'data-methods="card sepa_debit"' in web.get(manage_path(gift)).content.decode()
    paid = {
        "id": "in_next_month",
        "object": "invoice",
        "subscription": gift.stripe_subscription_id,
        "amount_paid": 2000,
    }
    body = event_body("invoice.paid", paid)
    signature = sign(body, webhook_secret(campaign))
    web.post(
        webhook_path(campaign),
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert Donation.objects.get(invoice_id="in_next_month").method == "card"


def test_a_cancelled_gift_offers_no_card_change(campaign):
    gift = monthly_gift(campaign, "c5" * 16)
    giving.cancel_monthly(gift, actor=None)
    web = Client()
    html = web.get(manage_path(gift)).content.decode()
    assert "data-client-secret" not in html and "manage-card.js" not in html
    refused = web.post(f"{manage_path(gift)}carte/", {"setup_intent": "seti_123"})
    assert refused.status_code == 409


def test_the_failed_payment_email_links_to_the_page_that_changes_the_card(
    clone, stripe_settings, election_2027
):
    result = clone()
    campaign = make_funded(result.campaign, election=election_2027)
    gift = monthly_gift(campaign, "c6" * 16)
    RecurringGift.objects.filter(pk=gift.pk).update(status=RecurringGift.Status.ACTIVE)
    failed = {"id": "in_failed_1", "object": "invoice", "subscription": gift.stripe_subscription_id}
    body = event_body("invoice.payment_failed", failed)
    web = Client()
    delivered = web.post(
        webhook_path(campaign),
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, webhook_secret(campaign)),
    )
    assert delivered.status_code == 200
    assert RecurringGift.objects.get(pk=gift.pk).status == RecurringGift.Status.PAST_DUE

    message = next(m for m in mail.outbox if m.to == ["jeanne.martin@example.org"])
    link = re.search(r"https?://\S+/donations/mensuel/(\S+)/", message.body)
    assert link, message.body
    assert link.group(0).startswith(site_for_campaign(campaign).root_url)
    assert giving.gift_from_token(link.group(1)) == gift
    page = web.get(f"/donations/mensuel/{link.group(1)}/")
    assert page.status_code == 200 and client_secret(page.content.decode())


def test_a_past_due_month_is_paid_at_once_with_the_new_card_and_recorded_once(
    campaign, stripe_settings
):
    gift = monthly_gift(campaign, "c7" * 16)
    web = Client()
    stripe = client_for(campaign)
    first = stripe.v1.subscriptions.retrieve(gift.stripe_subscription_id).latest_invoice
    deliver(campaign, "invoice.paid", stripe.v1.invoices.retrieve(str(first)).to_dict())
    # The card the gift now uses declines: next month's payment fails, Stripe will retry later.
    assert change_card(web, gift, DECLINED_CARD).json()["overdue"] == ""  # nothing was overdue
    invoice = stripe_settings.renew(gift.stripe_subscription_id)
    assert invoice["status"] == "open"
    assert stripe.v1.subscriptions.retrieve(gift.stripe_subscription_id).status == "past_due"
    deliver(campaign, "invoice.payment_failed", invoice)
    assert RecurringGift.objects.get(pk=gift.pk).status == RecurringGift.Status.PAST_DUE

    # Another card, declined too: it is kept, and the page says plainly that the month failed.
    answer = change_card(web, gift, DECLINED_CARD)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["ok"] and body["overdue"] == "declined"
    assert "enregistré" in body["message"] and "20 € a été refusé" in body["message"]
    gift.refresh_from_db()
    kept = gift.stripe_payment_method_id
    assert (
        stripe.v1.subscriptions.retrieve(gift.stripe_subscription_id)["default_payment_method"]
        == kept
    )
    assert stripe.v1.invoices.retrieve(invoice["id"]).status == "open"
    # Stripe reports that manual attempt without counting it: the donor, told on the page, gets
    # no second email for the same attempt.
    sent = len(mail.outbox)
    deliver(
        campaign, "invoice.payment_failed", stripe.v1.invoices.retrieve(invoice["id"]).to_dict()
    )
    assert len(mail.outbox) == sent

    # A card that works: the overdue month is paid now, with it, not at Stripe's next retry.
    body = change_card(web, gift).json()
    assert body["ok"] and body["overdue"] == "paid" and "20 € a été effectué" in body["message"]
    gift.refresh_from_db()
    assert gift.stripe_payment_method_id != kept and gift.payment_method_last4 == "4444"
    paid = stripe.v1.invoices.retrieve(invoice["id"]).to_dict()
    assert paid["status"] == "paid"
    intent = stripe.v1.payment_intents.retrieve(paid["payment_intent"])
    assert intent.payment_method == gift.stripe_payment_method_id
    assert stripe.v1.subscriptions.retrieve(gift.stripe_subscription_id).status == "active"
    event = AuditEvent.objects.filter(action="donations.monthly_payment_method").latest("pk")
    assert event.data["overdue"] == "paid"

    # The page records no gift: the webhooks that follow do, once.
    assert not Donation.objects.filter(invoice_id=invoice["id"]).exists()
    for kind in ("invoice.payment_succeeded", "invoice.paid", "invoice.paid"):
        deliver(campaign, kind, paid)
    donation = Donation.objects.get(invoice_id=invoice["id"])
    assert donation.recurring_gift == gift and donation.amount_cents == 2000
    assert donation.payment_intent_id == paid["payment_intent"] and donation.method == "card"
    assert RecurringGift.objects.get(pk=gift.pk).status == RecurringGift.Status.ACTIVE


def test_a_month_in_either_stripe_api_shape_is_recorded_once(campaign):
    """API 2025-03-31 moved the invoice's subscription under `parent` and dropped its
    `payment_intent`; a webhook endpoint may send either shape, the reconciliation the other."""
    from donations.services.reconcile import reconcile_campaign

    gift = monthly_gift(campaign, "c9" * 16)
    stripe = client_for(campaign)
    first = stripe.v1.subscriptions.retrieve(gift.stripe_subscription_id).latest_invoice
    older = stripe.v1.invoices.retrieve(str(first)).to_dict()
    assert older["subscription"] and older["payment_intent"]  # localstripe speaks the old one
    newer = {
        key: value for key, value in older.items() if key not in ("subscription", "payment_intent")
    }
    newer["parent"] = {
        "type": "subscription_details",
        "subscription_details": {"subscription": older["subscription"]},
    }

    deliver(campaign, "invoice.paid", newer)
    donation = Donation.objects.get(recurring_gift=gift)
    assert (donation.invoice_id, donation.amount_cents) == (older["id"], 2000)
    # Read from the invoice's payments at Stripe: the id a refund of this month names.
    assert donation.payment_intent_id == older["payment_intent"]
    deliver(campaign, "invoice.paid", older)  # another event id, the other shape
    reconcile_campaign(campaign)
    assert Donation.objects.filter(recurring_gift=gift).count() == 1

    stripe.v1.refunds.create(params={"payment_intent": older["payment_intent"], "amount": 500})
    intent = stripe.v1.payment_intents.retrieve(older["payment_intent"])
    charge = stripe.v1.charges.retrieve(as_id(intent.latest_charge)).to_dict()
    deliver(campaign, "charge.refunded", charge)
    donation.refresh_from_db()
    assert donation.refunded_cents == 500
