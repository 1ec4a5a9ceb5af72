"""What Stripe.js does in the donor's browser, done through Stripe's API (localstripe)."""

from __future__ import annotations

from typing import Any

import stripe

from donations.services.stripe_api import client_for

TEST_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


def card_payment_method(campaign: Any) -> str:
    method = client_for(campaign).v1.payment_methods.create(
        params={"type": "card", "card": TEST_CARD}  # type: ignore[typeddict-item]
    )
    return str(method.id)


def pay(campaign: Any, payment_intent_id: str) -> stripe.PaymentIntent:
    """stripe.confirmCardPayment(client_secret, {payment_method: {card}}) with the test card."""
    client = client_for(campaign)
    client.v1.payment_intents.update(
        payment_intent_id, params={"payment_method": card_payment_method(campaign)}
    )
    return client.v1.payment_intents.confirm(payment_intent_id)


def gift_request(token: str, *, amount_cents: int = 5000, frequency: str = "once", **identity: Any):
    from donations.services.giving import GiftRequest
    from tests.fixtures.donations import donor

    return GiftRequest(
        amount_cents=amount_cents,
        frequency=frequency,
        method="card",
        form_token=token,
        identity=donor(**identity),
    )


def paid_intent(campaign: Any, token: str, **kwargs: Any) -> dict[str, Any]:
    """A one-off gift the donor paid on Stripe; returns the PaymentIntent as Stripe has it."""
    from donations.services.giving import start_gift

    started = start_gift(campaign, gift_request(token, **kwargs))
    pay(campaign, started.attempt.payment_intent_id)
    return (
        client_for(campaign)
        .v1.payment_intents.retrieve(started.attempt.payment_intent_id)
        .to_dict()
    )


SEPA = {
    "type": "sepa_debit",
    "sepa_debit": {"iban": "FR1420041010050500013M02606"},
    "billing_details": {"name": "Jeanne Martin", "email": "jeanne.martin@example.org"},
}


def monthly_gift(campaign: Any, token: str, *, method: str = "card", **identity: Any) -> Any:
    """A monthly gift as the donation form and Stripe.js make it: attempt, customer,
    subscription on localstripe."""
    from donations.models import RecurringGift
    from donations.services import giving

    request = gift_request(token, frequency="monthly", amount_cents=2000, **identity)
    request.method = method
    started = giving.start_gift(campaign, request)
    if method == "card":
        payment_method = card_payment_method(campaign)
    else:
        payment_method = client_for(campaign).v1.payment_methods.create(params=SEPA).id  # type: ignore[arg-type]
    giving.subscribe(campaign, started.attempt, payment_method)
    return RecurringGift.objects.get(attempt=started.attempt)
