"""A monthly donor changes the card (or the SEPA mandate) of their gift, through the signed link.

Stripe's intended flow, card data never reaching us: we create a SetupIntent for the gift's
customer on the campaign's own account; Stripe.js confirms it in the donor's browser; the page
then sends us the SetupIntent id, and we read it back from Stripe before trusting anything: it
must belong to this gift's customer and have succeeded. Its payment method becomes the
subscription's default (and the customer's invoice default), so Stripe's next charge and its
retries of a failed month use it. A month already overdue (the subscription is past due) is
paid at once with it rather than at Stripe's next retry, days later.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stripe.params import SetupIntentCreateParams

from donations.models import Method, RecurringGift
from donations.services.rules import GiftRefused, euros, settings_for
from donations.services.stripe_api import as_id, client_for

logger = logging.getLogger(__name__)


@dataclass
class CardChange:
    """What the manage page needs to mount Stripe Elements and confirm the SetupIntent."""

    client_secret: str
    publishable_key: str
    method_types: list[str]


@dataclass
class MethodChanged:
    """The gift with its new method, and what became of the overdue month paid with it:
    "" (none was overdue, or it could not be attempted now: Stripe's retries will use the new
    method), "paid", "processing" (a SEPA debit takes days) or "declined"."""

    gift: RecurringGift
    overdue: str = ""
    overdue_cents: int = 0

    @property
    def message(self) -> str:
        amount = euros(self.overdue_cents)
        if self.overdue == "paid":
            return _(
                "Your new payment method is recorded, and the overdue payment of %(amount)s "
                "was made with it. Thank you!"
            ) % {"amount": amount}
        if self.overdue == "processing":
            return _(
                "Your new payment method is recorded, and the overdue payment of %(amount)s "
                "is under way with it."
            ) % {"amount": amount}
        if self.overdue == "declined":
            return _(
                "Your new payment method is recorded, but the overdue payment of %(amount)s "
                "was declined with it. Please check with your bank, or reload this page to "
                "use another payment method."
            ) % {"amount": amount}
        return _("Your new payment method is recorded; it will be used for the next payments.")


def current_method(gift: RecurringGift) -> str:
    if gift.method:
        return gift.method
    attempt = gift.attempt
    return attempt.method if attempt is not None else Method.CARD


def method_types(gift: RecurringGift) -> list[str]:
    """A card always; a SEPA mandate only for a gift given by direct debit (even if paid by
    card since): the donation form offers SEPA to monthly gifts only, on the donor's choice."""
    original = gift.attempt.method if gift.attempt is not None else Method.CARD
    if Method.SEPA_DEBIT in (original, current_method(gift)):
        return [Method.CARD.value, Method.SEPA_DEBIT.value]
    return [Method.CARD.value]


def can_change(gift: RecurringGift) -> bool:
    return (
        gift.status != RecurringGift.Status.CANCELED
        and bool(gift.stripe_customer_id)
        and not gift.stripe_subscription_id.startswith("pending:")
    )


def start_card_change(gift: RecurringGift) -> CardChange | None:
    """A fresh SetupIntent for the page; None when the gift cannot change or Stripe is down
    (the page still offers the amount change and the cancellation)."""
    if not can_change(gift):
        return None
    types = method_types(gift)
    params: SetupIntentCreateParams = {
        "customer": gift.stripe_customer_id,
        "usage": "off_session",  # charged each month without the donor
        "allowed_payment_method_types": types,  # API 2026-10-28: was payment_method_types
        "metadata": {"campaign": str(gift.campaign_id), "recurring_gift": str(gift.uuid)},
    }
    try:
        intent = client_for(gift.campaign).v1.setup_intents.create(params=params)
    except stripe.StripeError as error:
        logger.warning("donations: no SetupIntent for monthly gift %s: %s", gift.uuid, error)
        return None
    return CardChange(
        client_secret=intent.client_secret or "",
        publishable_key=settings_for(gift.campaign).stripe_publishable_key,
        method_types=types,
    )


def change_payment_method(
    gift: RecurringGift, setup_intent_id: str, *, actor: Any
) -> MethodChanged:
    """Make the payment method of a succeeded SetupIntent the gift's, and pay an overdue month
    with it. Refuses, changing nothing, a SetupIntent of another customer or not confirmed; a
    replay changes nothing, and an older SetupIntent (an earlier request replayed after a newer
    change) is refused rather than bringing the older card back."""
    if not setup_intent_id.startswith("seti_") or len(setup_intent_id) > 100:
        raise GiftRefused(_("This card change was not found."), code="setup_intent")
    client = client_for(gift.campaign)
    with transaction.atomic():
        # Under the gift's lock: a double submission waits, then finds the change applied.
        locked = RecurringGift.objects.select_for_update().get(pk=gift.pk)
        if locked.stripe_setup_intent_id == setup_intent_id:
            return MethodChanged(locked)
        if not can_change(locked):
            raise GiftRefused(_("This monthly gift is cancelled."), code="canceled")
        intent = _verified_intent(client, locked, setup_intent_id)
        created = dt.datetime.fromtimestamp(int(intent.get("created") or 0), dt.UTC)
        current = _current_created(client, locked)
        # Stripe's `created` is in seconds: two SetupIntents of the same second (two tabs
        # opened at once) are not ordered, and the later confirmation wins as before.
        if current is not None and created < current:
            raise GiftRefused(
                _("A newer card change was made since. Reload this page to change it again."),
                code="outdated",
            )
        payment_method = _attached_method(client, locked, as_id(intent.get("payment_method")))
        key = f"card-change-{setup_intent_id}"
        try:
            client.v1.customers.update(
                locked.stripe_customer_id,
                params={"invoice_settings": {"default_payment_method": payment_method["id"]}},
                options={"idempotency_key": f"{key}-customer"},
            )
            subscription = client.v1.subscriptions.update(
                locked.stripe_subscription_id,
                params={"default_payment_method": payment_method["id"]},
                options={"idempotency_key": f"{key}-subscription"},
            ).to_dict()
        except stripe.StripeError as error:
            raise _unavailable(error) from error
        result = MethodChanged(locked)
        # Under the lock too: a double submission finds the change applied and pays nothing.
        result.overdue, result.overdue_cents = _pay_overdue(
            client, subscription, payment_method["id"], key
        )
        details = payment_method.get(payment_method.get("type") or "") or {}
        locked.method = (
            Method.SEPA_DEBIT if payment_method.get("type") == "sepa_debit" else Method.CARD
        )
        locked.stripe_payment_method_id = payment_method["id"]
        locked.payment_method_brand = str(details.get("brand") or "")[:20]
        locked.payment_method_last4 = str(details.get("last4") or "")[:4]
        locked.stripe_setup_intent_id = setup_intent_id
        locked.stripe_setup_intent_created = created
        locked.payment_method_changed_at = timezone.now()
        locked.save(
            update_fields=[
                "method",
                "stripe_payment_method_id",
                "payment_method_brand",
                "payment_method_last4",
                "stripe_setup_intent_id",
                "stripe_setup_intent_created",
                "payment_method_changed_at",
            ]
        )
        from cocarde.audit.services import record_event

        record_event(
            "donations.monthly_payment_method",
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            data={
                "method": locked.method,
                "setup_intent": setup_intent_id,
                **({"overdue": result.overdue} if result.overdue else {}),
            },
        )
    return result


def _pay_overdue(
    client: stripe.StripeClient, subscription: dict[str, Any], payment_method_id: str, key: str
) -> tuple[str, int]:
    """(outcome, amount) of paying the past-due subscription's open invoice with the new method
    (see MethodChanged). The method is saved whatever happens here; the payment's own webhook
    (invoice.paid) records the gift, as for any month."""
    if subscription.get("status") not in ("past_due", "unpaid"):
        return "", 0
    invoice_id = as_id(subscription.get("latest_invoice"))
    if not invoice_id:
        return "", 0
    amount = 0
    try:
        invoice = client.v1.invoices.retrieve(invoice_id).to_dict()
        if invoice.get("status") != "open":
            return "", 0
        amount = int(invoice.get("amount_remaining") or invoice.get("amount_due") or 0)
        paid = client.v1.invoices.pay(
            invoice_id,
            params={"payment_method": payment_method_id, "off_session": True},
            options={"idempotency_key": f"{key}-pay-{invoice_id}"},
        )
    except stripe.CardError as error:
        logger.info("donations: overdue invoice %s declined again: %s", invoice_id, error)
        return "declined", amount
    except stripe.StripeError as error:
        logger.warning("donations: overdue invoice %s not attempted: %s", invoice_id, error)
        return "", 0
    return ("paid" if paid.status == "paid" else "processing"), amount


def _verified_intent(
    client: stripe.StripeClient, gift: RecurringGift, setup_intent_id: str
) -> dict[str, Any]:
    try:
        intent = client.v1.setup_intents.retrieve(setup_intent_id).to_dict()
    except stripe.InvalidRequestError as error:
        raise GiftRefused(_("This card change was not found."), code="setup_intent") from error
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    if as_id(intent.get("customer")) != gift.stripe_customer_id:
        raise GiftRefused(
            _("This card change does not belong to this monthly gift."), code="customer"
        )
    if intent.get("status") != "succeeded" or not intent.get("payment_method"):
        raise GiftRefused(_("The new card is not confirmed yet."), code="not_confirmed")
    return intent


def _current_created(client: stripe.StripeClient, gift: RecurringGift) -> dt.datetime | None:
    """When Stripe created the SetupIntent of the gift's current method (None: the method came
    with the gift). Read from Stripe once for a change made before we recorded it."""
    if gift.stripe_setup_intent_created is not None or not gift.stripe_setup_intent_id:
        return gift.stripe_setup_intent_created
    try:
        intent = client.v1.setup_intents.retrieve(gift.stripe_setup_intent_id)
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    return dt.datetime.fromtimestamp(int(intent.created), dt.UTC)


def _attached_method(
    client: stripe.StripeClient, gift: RecurringGift, payment_method_id: str
) -> dict[str, Any]:
    """The payment method, attached to the gift's customer. Stripe attaches it when the
    SetupIntent succeeds; attaching here covers a server that does not (localstripe)."""
    try:
        method = client.v1.payment_methods.retrieve(payment_method_id).to_dict()
        owner = as_id(method.get("customer"))
        if not owner:
            method = client.v1.payment_methods.attach(
                payment_method_id, params={"customer": gift.stripe_customer_id}
            ).to_dict()
        elif owner != gift.stripe_customer_id:
            raise GiftRefused(
                _("This card change does not belong to this monthly gift."), code="customer"
            )
    except stripe.CardError as error:
        raise GiftRefused(_("The card was not accepted."), code="card") from error
    except stripe.StripeError as error:
        raise _unavailable(error) from error
    if method.get("type") not in method_types(gift):
        raise GiftRefused(_("The card was not accepted."), code="method")
    return method


def _unavailable(error: Exception) -> GiftRefused:
    logger.warning("donations: Stripe refused a card change: %s", error)
    return GiftRefused(
        _("The payment service did not answer. Nothing was changed; please try again."),
        code="stripe",
    )
