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
