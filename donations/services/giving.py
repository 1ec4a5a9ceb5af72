"""The donor's side: a form submission becomes an attempt (amount reserved under the cap, under
the donor's lock), then a Stripe PaymentIntent or Subscription on the campaign's own account.

Card data never reaches us: the page's script hands it to Stripe.js. A second submission with the
same form token returns the first attempt's result (UNIQUE form_token); Stripe requests carry an
Idempotency-Key derived from the attempt, so a lost response retried creates nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cocarde.tenancy.models import Campaign
from crm.models import Consent
from crm.services.consent import ConsentChoice, record_consent
from donations.models import DonationAttempt, Method, RecurringGift
from donations.services import ledger, rules
from donations.services.rules import GiftRefused
from donations.services.stripe_api import as_id, client_for

logger = logging.getLogger(__name__)
MANAGE_SALT = "donations.manage-monthly"
MAX_AMOUNT_CENTS = 7_500_00


@dataclass
class GiftRequest:
    amount_cents: int
    frequency: str
    method: str
    form_token: str
    identity: dict[str, Any]
    consents: Sequence[ConsentChoice] = ()
    page_id: int | None = None
    source_url: str = ""
    blast_id: str = ""


@dataclass
class GiftStarted:
    attempt: DonationAttempt
    client_secret: str = ""
    remaining_after_cents: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "attempt": str(self.attempt.uuid),
            "status": self.attempt.status,
            "frequency": self.attempt.frequency,
            "client_secret": self.client_secret,
            "remaining_after_cents": self.remaining_after_cents,
            **self.extra,
        }


def start_gift(campaign: Campaign, gift: GiftRequest) -> GiftStarted:
    """Check the rules and reserve the amount, then ask Stripe for the payment."""
    problem = rules.collection_problem(campaign, online=True)
    if problem:
        raise GiftRefused(problem, code="closed")
    if gift.method not in (Method.CARD, Method.SEPA_DEBIT):
        raise GiftRefused(_("Choose a card or a direct debit."), code="method")
    if gift.method == Method.SEPA_DEBIT and gift.frequency != DonationAttempt.Frequency.MONTHLY:
        raise GiftRefused(_("Direct debit is offered for monthly gifts."), code="method")
    if not 100 <= gift.amount_cents <= MAX_AMOUNT_CENTS:
        raise GiftRefused(_("Enter an amount between 1 € and 7,500 €."), code="amount")
    existing = DonationAttempt.objects.filter(form_token=gift.form_token).first()
    if existing is not None:
        return _same_result(campaign, existing)
    try:
        with transaction.atomic():
            person = ledger.find_donor(gift.identity, campaign=campaign, source=gift.source_url)
            remaining = rules.check_gift(
                campaign=campaign,
                person_id=person.pk,
                amount_cents=gift.amount_cents,
                method=gift.method,
                natural_person=bool(gift.identity.get("natural_person")),
                french_or_resident=bool(gift.identity.get("french_or_resident")),
            )
            attempt = DonationAttempt.objects.create(
                form_token=gift.form_token,
                campaign=campaign,
                person=person,
                page_id=gift.page_id,
                source_url=gift.source_url[:500],
                blast_id=gift.blast_id[:40],
                amount_cents=gift.amount_cents,
                frequency=gift.frequency,
                method=gift.method,
                consents=[c.purpose for c in gift.consents],
                **ledger.identity_of(gift.identity),
            )
            for choice in gift.consents:
                record_consent(
                    person,
                    campaign,
                    choice,
                    actor=None,
                    source_kind=Consent.SourceKind.WEB,
                    source_detail=gift.source_url,
                )
    except IntegrityError:
        # The same form submitted twice at once: the other request created the attempt.
        existing = DonationAttempt.objects.filter(form_token=gift.form_token).first()
        if existing is None:
            raise
        return _same_result(campaign, existing)
    if attempt.frequency == DonationAttempt.Frequency.MONTHLY:
        # The card is collected by Stripe.js (createPaymentMethod); then `subscribe()`.
        return GiftStarted(attempt, remaining_after_cents=remaining, extra={"next": "subscribe"})
    return _create_payment_intent(campaign, attempt, remaining)


def _same_result(campaign: Campaign, attempt: DonationAttempt) -> GiftStarted:
    if attempt.campaign_id != campaign.pk:
        raise GiftRefused(_("This form was already used."), code="token")
    if attempt.frequency == DonationAttempt.Frequency.ONCE and not attempt.client_secret:
        if attempt.status == DonationAttempt.Status.CREATED:
            return _create_payment_intent(campaign, attempt, None)
    extra = {"next": "subscribe"} if attempt.frequency == DonationAttempt.Frequency.MONTHLY else {}
    return GiftStarted(attempt, client_secret=attempt.client_secret, extra=extra)


def _fail(attempt: DonationAttempt, error: Exception) -> GiftRefused:
    logger.warning("donations: Stripe refused attempt %s: %s", attempt.uuid, error)
    DonationAttempt.objects.filter(pk=attempt.pk).exclude(
        status=DonationAttempt.Status.SUCCEEDED
    ).update(status=DonationAttempt.Status.FAILED, error=str(error)[:500])
    return GiftRefused(
        _("The payment service did not answer. Nothing was charged; please try again."),
        code="stripe",
    )


def _metadata(campaign: Campaign, attempt: DonationAttempt) -> dict[str, str]:
    return {"campaign": str(campaign.pk), "attempt": str(attempt.uuid)}


def _create_payment_intent(
    campaign: Campaign, attempt: DonationAttempt, remaining: int | None
) -> GiftStarted:
    """One PaymentIntent per attempt: created under the attempt's row lock, so a second
    submission waits and gets the same one; the Idempotency-Key covers a lost response."""
    with transaction.atomic():
        locked = DonationAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.client_secret:
            return GiftStarted(locked, client_secret=locked.client_secret)
        refusal: stripe.StripeError | None = None
        try:
            payment = client_for(campaign).v1.payment_intents.create(
                params={
                    "amount": locked.amount_cents,
                    "currency": "eur",
                    "metadata": _metadata(campaign, locked),
                },
                options={"idempotency_key": f"donation-attempt-{locked.uuid}"},
            )
        except stripe.StripeError as error:
            refusal = error
        else:
            locked.payment_intent_id = payment.id
            locked.client_secret = payment.client_secret or ""
            locked.status = DonationAttempt.Status.PENDING
            locked.save(
                update_fields=["payment_intent_id", "client_secret", "status", "updated_at"]
            )
    if refusal is not None:
        raise _fail(attempt, refusal) from refusal
    return GiftStarted(locked, client_secret=locked.client_secret, remaining_after_cents=remaining)


def subscribe(campaign: Campaign, attempt: DonationAttempt, payment_method_id: str) -> GiftStarted:
    """Monthly gift: the customer, the monthly price and the subscription on the campaign's
    account; its first invoice is paid now, the webhook records each month."""
    if attempt.campaign_id != campaign.pk or attempt.frequency != DonationAttempt.Frequency.MONTHLY:
        raise GiftRefused(_("This form was already used."), code="token")
    existing = RecurringGift.objects.filter(attempt=attempt).first()
    if existing is not None:
        return GiftStarted(attempt, extra={"subscription": existing.stripe_subscription_id})
    client = client_for(campaign)
    key = f"donation-attempt-{attempt.uuid}"
    try:
        customer = client.v1.customers.create(
            params={
                "email": attempt.email,
                "name": attempt.donor_name,
                "payment_method": payment_method_id,
                "invoice_settings": {"default_payment_method": payment_method_id},
                "metadata": _metadata(campaign, attempt),
            },
            options={"idempotency_key": f"{key}-customer"},
        )
        plan = client.v1.plans.create(
            params={
                "amount": attempt.amount_cents,
                "currency": "eur",
                "interval": "month",
                "product": {"name": _("Monthly gift to %(name)s") % {"name": campaign.name}},
            },
            options={"idempotency_key": f"{key}-plan"},
        )
        gift = RecurringGift.objects.create(
            campaign=campaign,
            person_id=attempt.person_id,
            attempt=attempt,
            amount_cents=attempt.amount_cents,
            stripe_customer_id=customer.id,
            stripe_price_id=plan.id,
            stripe_subscription_id=f"pending:{attempt.uuid}",
            method=attempt.method,
            stripe_payment_method_id=payment_method_id,
        )
        subscription = client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"plan": plan.id}],
                "metadata": _metadata(campaign, attempt),
            },
            options={"idempotency_key": f"{key}-subscription"},
        )
    except stripe.StripeError as error:
        raise _fail(attempt, error) from error
    RecurringGift.objects.filter(pk=gift.pk).update(stripe_subscription_id=subscription.id)
    DonationAttempt.objects.filter(pk=attempt.pk).exclude(
        status=DonationAttempt.Status.SUCCEEDED
    ).update(
        status=DonationAttempt.Status.PENDING,
        stripe_customer_id=customer.id,
        stripe_subscription_id=subscription.id,
    )
    attempt.refresh_from_db()
    return GiftStarted(attempt, extra={"subscription": subscription.id})


# --- Managing a monthly gift through a signed link -----------------------------------------------


def manage_token(gift: RecurringGift) -> str:
    return signing.dumps(str(gift.uuid), salt=MANAGE_SALT)


def gift_from_token(token: str) -> RecurringGift | None:
    try:
        value = signing.loads(token, salt=MANAGE_SALT)
    except signing.BadSignature:
        return None
    return RecurringGift.objects.filter(uuid=value).select_related("campaign").first()


def cancel_monthly(gift: RecurringGift, *, actor: Any) -> RecurringGift:
    if gift.status != RecurringGift.Status.CANCELED:
        if not gift.stripe_subscription_id.startswith("pending:"):
            client_for(gift.campaign).v1.subscriptions.cancel(gift.stripe_subscription_id)
        ledger.apply_subscription(
            gift.campaign, {"id": gift.stripe_subscription_id, "status": "canceled"}
        )
        from cocarde.audit.services import record_event

        record_event(
            "donations.monthly_cancel", actor=actor, campaign=gift.campaign, target=gift, data={}
        )
    gift.refresh_from_db()
    return gift


def change_monthly_amount(gift: RecurringGift, amount_cents: int, *, actor: Any) -> RecurringGift:
    """A new monthly price from the next month on, within the donor's remaining allowance."""
    if gift.status == RecurringGift.Status.CANCELED:
        raise GiftRefused(_("This monthly gift is cancelled."), code="canceled")
    if not 100 <= amount_cents <= MAX_AMOUNT_CENTS:
        raise GiftRefused(_("Enter an amount between 1 € and 7,500 €."), code="amount")
    campaign = gift.campaign
    with transaction.atomic():
        if gift.person_id:
            remaining = rules.remaining_cents(gift.person_id, campaign)
            rules.lock_donor(gift.person_id)
            if remaining is not None and amount_cents > remaining:
                raise GiftRefused(
                    _("The law allows you to give %(left)s more.")
                    % {"left": rules.euros(remaining)},
                    code="cap",
                    remaining_cents=remaining,
                )
        client = client_for(campaign)
        plan = client.v1.plans.create(
            params={
                "amount": amount_cents,
                "currency": "eur",
                "interval": "month",
                "product": {"name": _("Monthly gift to %(name)s") % {"name": campaign.name}},
            }
        )
        subscription = client.v1.subscriptions.retrieve(gift.stripe_subscription_id)
        item = subscription["items"]["data"][0]["id"]
        client.v1.subscriptions.update(
            gift.stripe_subscription_id, params={"items": [{"id": item, "plan": plan.id}]}
        )
        RecurringGift.objects.filter(pk=gift.pk).update(
            amount_cents=amount_cents, stripe_price_id=plan.id
        )
        from cocarde.audit.services import record_event

        record_event(
            "donations.monthly_amount",
            actor=actor,
            campaign=campaign,
            target=gift,
            data={"amount_cents": amount_cents},
        )
    gift.refresh_from_db()
    return gift


def consent_choices(data: Mapping[str, Any], texts: Mapping[str, str]) -> list[ConsentChoice]:
    return [
        ConsentChoice(channel="email", purpose=purpose, text=text)
        for purpose, text in texts.items()
        if data.get(f"consent_{purpose}")
    ]


__all__ = ["as_id"]
