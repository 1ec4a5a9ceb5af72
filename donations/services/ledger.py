"""Recording money: the one place a Donation is created or changed.

Online payments (from the webhook or the reconciliation job), offline gifts (the treasurer) and
the demo all go through `record_gift()`: the donation row, the CRM action, the donor's tags, the
receipt number and the thank-you email after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from crm.models import Action, ActionType, CampaignAttachment, Person
from crm.services import people as people_services
from crm.services.matching import Identity, find_or_create_person
from donations.models import Donation, DonationAttempt, Method, RecurringGift
from donations.services import receipts, rules
from donations.services.stripe_api import (
    as_id,
    invoice_payment_intent_id,
    invoice_subscription_id,
)

logger = logging.getLogger(__name__)

DONOR_TAG = "Donateur"
MONTHLY_DONOR_TAG = "Donateur mensuel"
IDENTITY_FIELDS = (
    "civility",
    "first_name",
    "last_name",
    "email",
    "street",
    "postcode",
    "city",
    "country",
    "natural_person",
    "french_or_resident",
)


def identity_of(source: Any) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return {f: source[f] for f in IDENTITY_FIELDS if f in source}
    return {f: getattr(source, f) for f in IDENTITY_FIELDS}


def find_donor(identity: Mapping[str, Any], *, campaign: Campaign, source: str = "") -> Person:
    """The CRM person for this donor (matched on email, or created), attached to the campaign."""
    result = find_or_create_person(
        Identity(
            email=identity.get("email", ""),
            first_names=identity.get("first_name", ""),
            birth_name=identity.get("last_name", ""),
            street_name=identity.get("street", ""),
            postcode=identity.get("postcode", ""),
            commune_name=identity.get("city", ""),
        ),
        actor=None,
        campaign=campaign,
        reason=CampaignAttachment.Reason.SITE,
        source=source,
    )
    return result.person


def record_gift(
    *,
    campaign: Campaign,
    person: Person,
    identity: Mapping[str, Any],
    amount_cents: int,
    method: str,
    received_at: dt.datetime,
    actor: Any,
    kind: str = Donation.Kind.GIFT,
    attempt: DonationAttempt | None = None,
    recurring_gift: RecurringGift | None = None,
    payment_intent_id: str | None = None,
    charge_id: str = "",
    invoice_id: str = "",
    reference: str = "",
    page_id: int | None = None,
    source_url: str = "",
    blast_id: str = "",
) -> Donation:
    """Write one received gift and everything that follows from it. Call in a transaction
    holding the donor's lock (rules.check_gift or rules.lock_donor)."""
    donation = Donation.objects.create(
        campaign=campaign,
        person=person,
        attempt=attempt,
        recurring_gift=recurring_gift,
        kind=kind,
        method=method,
        amount_cents=amount_cents,
        received_at=received_at,
        payment_intent_id=payment_intent_id or None,
        charge_id=charge_id,
        invoice_id=invoice_id,
        reference=reference,
        page_id=page_id,
        source_url=source_url[:500],
        blast_id=blast_id,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        **identity_of(identity),
    )
    action = people_services.record_action(
        person,
        ActionType.DONATED,
        campaign=campaign,
        actor=actor,
        occurred_at=received_at,
        source=source_url,
        page_id=page_id,
        data={
            "amount": f"{amount_cents / 100:.2f}",
            "currency": "EUR",
            "recurring": recurring_gift is not None,
            "method": method,
            "donation_id": donation.pk,
            **({"blast_id": blast_id} if blast_id else {}),
        },
    )
    donation.action_id = action.pk
    donation.save(update_fields=["action_id"])
    tags = [DONOR_TAG] + ([MONTHLY_DONOR_TAG] if recurring_gift is not None else [])
    for name in tags:  # two first gifts at once would both try to create the tag
        try:
            with transaction.atomic():
                people_services.tag_for(name, campaign)
        except IntegrityError:
            pass
    people_services.add_tags(person, tags, campaign=campaign, actor=None)
    receipts.issue_if_eligible(donation)
    record_event(
        "donations.gift",
        actor=actor,
        campaign=campaign,
        target=donation,
        data={"amount_cents": amount_cents, "method": method, "kind": kind},
    )
    donation_id = donation.pk
    transaction.on_commit(lambda: _enqueue_thanks(donation_id))
    return donation


def _enqueue_thanks(donation_id: int) -> None:
    from donations.tasks import transactional_send_thanks

    transactional_send_thanks.delay(donation_id)


# --- Online payments ---------------------------------------------------------------------------


def _attempt_for(campaign: Campaign, payment_intent: Mapping[str, Any]) -> DonationAttempt | None:
    metadata = payment_intent.get("metadata") or {}
    attempt = None
    if metadata.get("attempt"):
        attempt = DonationAttempt.objects.filter(
            uuid=metadata["attempt"], campaign=campaign
        ).first()
    if attempt is None and payment_intent.get("id"):
        attempt = DonationAttempt.objects.filter(
            payment_intent_id=payment_intent["id"], campaign=campaign
        ).first()
    return attempt


def belongs_to(campaign: Campaign, obj: Mapping[str, Any]) -> bool:
    return str((obj.get("metadata") or {}).get("campaign", "")) == str(campaign.pk)


def apply_payment_succeeded(campaign: Campaign, payment_intent: Mapping[str, Any]) -> str:
    """A one-off payment Stripe confirmed: one Donation per PaymentIntent, however often and in
    whatever order we hear of it."""
    pi_id = payment_intent["id"]
    attempt = _attempt_for(campaign, payment_intent)
    if attempt is None or attempt.person_id is None:
        logger.warning("donations: succeeded payment %s matches no attempt", pi_id)
        return "unknown payment"
    with transaction.atomic():
        rules.lock_donor(attempt.person_id)
        existing = Donation.objects.filter(payment_intent_id=pi_id).first()
        DonationAttempt.objects.filter(pk=attempt.pk).update(
            status=DonationAttempt.Status.SUCCEEDED, payment_intent_id=pi_id
        )
        if existing is not None:
            return "already recorded"
        method = (
            Method.SEPA_DEBIT
            if "sepa_debit" in str(payment_intent.get("payment_method_types") or "")
            and attempt.method == Method.SEPA_DEBIT
            else Method.CARD
        )
        created = payment_intent.get("created")
        donation = record_gift(
            campaign=campaign,
            person=attempt.person,  # type: ignore[arg-type]
            identity=identity_of(attempt),
            amount_cents=int(payment_intent["amount"]),
            method=method,
            received_at=dt.datetime.fromtimestamp(int(created), dt.UTC)
            if created
            else timezone.now(),
            actor=None,
            attempt=attempt,
            payment_intent_id=pi_id,
            charge_id=as_id(payment_intent.get("latest_charge")),
            page_id=attempt.page_id,
            source_url=attempt.source_url,
            blast_id=attempt.blast_id,
        )
        _refund_over_cap(campaign, donation)
    return "recorded"


def apply_payment_status(campaign: Campaign, payment_intent: Mapping[str, Any], status: str) -> str:
    """processing / failed / canceled: never downgrade a succeeded attempt."""
    attempt = _attempt_for(campaign, payment_intent)
    if attempt is None:
        return "unknown payment"
    updated = (
        DonationAttempt.objects.filter(pk=attempt.pk)
        .exclude(status=DonationAttempt.Status.SUCCEEDED)
        .update(
            status=status,
            error=str((payment_intent.get("last_payment_error") or {}).get("message", ""))[:500],
        )
    )
    return f"attempt {status}" if updated else "kept succeeded"


def _invoice_intent_from_stripe(campaign: Campaign, invoice_id: str) -> str:
    """Since API 2025-03-31 an invoice names its PaymentIntent only in its payments, which
    events do not carry: ask Stripe, for the id refunds and disputes will name ("" if Stripe
    cannot say now: the month is then keyed by its invoice)."""
    from donations.services.stripe_api import client_for

    try:
        payments = client_for(campaign).v1.invoice_payments.list(
            params={"invoice": invoice_id, "limit": 10}
        )
    except stripe.StripeError:
        logger.warning("donations: payments of invoice %s unavailable", invoice_id)
        return ""
    for payment in payments.data:
        if found := as_id((payment.to_dict().get("payment") or {}).get("payment_intent")):
            return found
    return ""


def apply_invoice_paid(campaign: Campaign, invoice: Mapping[str, Any]) -> str:
    """One month of a monthly gift."""
    subscription_id = invoice_subscription_id(invoice)
    gift = (
        RecurringGift.objects.filter(campaign=campaign, stripe_subscription_id=subscription_id)
        .select_related("person", "attempt")
        .first()
    )
    if gift is None or gift.person_id is None:
        return "unknown subscription"
    invoice_id = str(invoice["id"])
    pi_id = (
        invoice_payment_intent_id(invoice)
        or _invoice_intent_from_stripe(campaign, invoice_id)
        or f"invoice:{invoice_id}"
    )
    with transaction.atomic():
        rules.lock_donor(gift.person_id)
        # By invoice too: the same month may come in both API shapes (the webhook endpoint's
        # version and the reconciliation client's), one naming its PaymentIntent, one not.
        if Donation.objects.filter(
            Q(payment_intent_id=pi_id) | Q(recurring_gift=gift, invoice_id=invoice_id)
        ).exists():
            return "already recorded"
        if gift.status in (RecurringGift.Status.INCOMPLETE, RecurringGift.Status.PAST_DUE):
            RecurringGift.objects.filter(pk=gift.pk).update(status=RecurringGift.Status.ACTIVE)
        if gift.attempt_id:
            DonationAttempt.objects.filter(pk=gift.attempt_id).update(
                status=DonationAttempt.Status.SUCCEEDED
            )
        attempt = gift.attempt
        paid_at = ((invoice.get("status_transitions") or {}).get("paid_at")) or invoice.get(
            "created"
        )
        donation = record_gift(
            campaign=campaign,
            person=gift.person,  # type: ignore[arg-type]
            identity=identity_of(attempt) if attempt else identity_of(_last_identity(gift)),
            amount_cents=int(
                invoice.get("amount_paid") or invoice.get("total") or gift.amount_cents
            ),
            # The donor may have changed the card or mandate since the first month.
            method=gift.method or (attempt.method if attempt else Method.CARD),
            received_at=dt.datetime.fromtimestamp(int(paid_at), dt.UTC)
            if paid_at
            else timezone.now(),
            actor=None,
            attempt=attempt,
            recurring_gift=gift,
            payment_intent_id=pi_id,
            invoice_id=invoice_id,
            page_id=attempt.page_id if attempt else None,
            source_url=attempt.source_url if attempt else "",
        )
        _refund_over_cap(campaign, donation, monthly=gift)
    return "recorded monthly"


def _refund_over_cap(
    campaign: Campaign, donation: Donation, *, monthly: RecurringGift | None = None
) -> None:
    """Money Stripe already took may not fit any more (a reservation expired, an offline gift
    or another month came first): the part above the cap is refunded, and a monthly gift that
    cannot fit its next month is stopped. Runs after commit (it calls Stripe)."""
    policy = rules.rules_for(campaign)
    if policy.cap_cents is None or donation.person_id is None:
        return
    given = rules.given_cents(donation.person_id, campaign, at=donation.received_at, pending=False)
    over = min(donation.amount_cents, max(0, given - policy.cap_cents))
    stop = (
        monthly is not None
        and policy.cap_cents - min(given, policy.cap_cents) < monthly.amount_cents
    )
    if not over and not stop:
        return
    donation_id, gift_id = donation.pk, monthly.pk if monthly is not None else None
    record_event(
        "donations.over_cap",
        actor=None,
        campaign=campaign,
        target=donation,
        data={"over_cents": over, "stop_monthly": stop},
    )
    transaction.on_commit(lambda: _settle_over_cap(donation_id, over, gift_id if stop else None))


def _settle_over_cap(donation_id: int, over: int, gift_id: int | None) -> None:
    donation = Donation.objects.select_related("campaign").get(pk=donation_id)
    if over:
        refund(donation, actor=None, amount_cents=over)
    if gift_id is not None:
        from donations.services.giving import cancel_monthly

        cancel_monthly(RecurringGift.objects.select_related("campaign").get(pk=gift_id), actor=None)


def _last_identity(gift: RecurringGift) -> Donation:
    last = gift.donations.order_by("-received_at").first()
    if last is None:
        raise ValueError("monthly gift without identity")
    return last


def apply_refund(campaign: Campaign, charge: Mapping[str, Any]) -> str:
    """`amount_refunded` is cumulative: applying it twice changes nothing."""
    pi_id = as_id(charge.get("payment_intent"))
    with transaction.atomic():
        donation = (
            Donation.objects.select_for_update()
            .filter(campaign=campaign, payment_intent_id=pi_id)
            .first()
        )
        if donation is None:
            return "unknown payment"
        refunded = min(int(charge.get("amount_refunded") or 0), donation.amount_cents)
        return _set_refunded(donation, refunded, actor=None)


def _set_refunded(donation: Donation, refunded: int, *, actor: Any) -> str:
    if refunded <= donation.refunded_cents:
        return "refund already counted"
    donation.refunded_cents = refunded
    if refunded >= donation.amount_cents:
        donation.status = Donation.Status.REFUNDED
    donation.save(update_fields=["refunded_cents", "status", "updated_at"])
    if donation.action_id:
        action = Action.objects.filter(pk=donation.action_id).first()
        if action is not None:
            action.data = {
                **action.data,
                "amount": f"{donation.net_cents / 100:.2f}",
                "refunded": True,
            }
            action.save(update_fields=["data"])
    if donation.status == Donation.Status.REFUNDED:
        receipts.cancel_for_refund(donation, actor=actor)
    record_event(
        "donations.refund",
        actor=actor,
        campaign=donation.campaign,
        target=donation,
        data={"refunded_cents": refunded},
    )
    return "refunded"


def apply_dispute(campaign: Campaign, dispute: Mapping[str, Any], *, closed: bool) -> str:
    pi_id = as_id(dispute.get("payment_intent"))
    with transaction.atomic():
        donation = (
            Donation.objects.select_for_update()
            .filter(campaign=campaign, payment_intent_id=pi_id)
            .first()
        )
        if donation is None:
            return "unknown payment"
        if not closed:
            donation.status = Donation.Status.DISPUTED
            donation.save(update_fields=["status", "updated_at"])
            return "disputed"
        if dispute.get("status") == "lost":
            return _set_refunded(donation, donation.amount_cents, actor=None)
        donation.status = Donation.Status.SUCCEEDED
        donation.save(update_fields=["status", "updated_at"])
        return "dispute won"


def apply_subscription(campaign: Campaign, subscription: Mapping[str, Any]) -> str:
    status = str(subscription.get("status", ""))
    mapped = {
        "active": RecurringGift.Status.ACTIVE,
        "past_due": RecurringGift.Status.PAST_DUE,
        "unpaid": RecurringGift.Status.PAST_DUE,
        "canceled": RecurringGift.Status.CANCELED,
        "incomplete_expired": RecurringGift.Status.CANCELED,
    }.get(status)
    if mapped is None:
        return "ignored status"
    gifts = RecurringGift.objects.filter(
        campaign=campaign, stripe_subscription_id=subscription["id"]
    ).exclude(status=RecurringGift.Status.CANCELED)
    changes: dict[str, Any] = {"status": mapped}
    if mapped == RecurringGift.Status.CANCELED:
        changes["canceled_at"] = timezone.now()
    return "subscription updated" if gifts.update(**changes) else "no change"


# --- Treasurer ---------------------------------------------------------------------------------


def record_offline_gift(
    *,
    campaign: Campaign,
    identity: Mapping[str, Any],
    amount_cents: int,
    method: str,
    received_on: dt.date,
    actor: Any,
    kind: str = Donation.Kind.GIFT,
    reference: str = "",
) -> Donation:
    """A cheque, transfer or cash gift entered by the treasurer, under the same rules."""
    if method not in (Method.CHEQUE, Method.TRANSFER, Method.CASH):
        raise ValueError(f"Not an offline method: {method!r}")
    problem = rules.collection_problem(campaign, online=False, on=received_on)
    if problem:
        raise rules.GiftRefused(problem, code="closed")
    received_at = timezone.make_aware(dt.datetime.combine(received_on, dt.time(12, 0)))
    with transaction.atomic():
        person = find_donor(identity, campaign=campaign, source="treasurer")
        rules.check_gift(
            campaign=campaign,
            person_id=person.pk,
            amount_cents=amount_cents,
            method=method,
            natural_person=bool(identity.get("natural_person")),
            french_or_resident=bool(identity.get("french_or_resident")),
            at=received_at,
            kind=kind,
        )
        return record_gift(
            campaign=campaign,
            person=person,
            identity=identity,
            amount_cents=amount_cents,
            method=method,
            received_at=received_at,
            actor=actor,
            kind=kind,
            reference=reference,
            source_url="treasurer",
        )


def refund(donation: Donation, *, actor: Any, amount_cents: int | None = None) -> str:
    """Refund a gift: through Stripe for an online one (the webhook confirms it, and we record
    it now too, idempotently), directly for an offline one."""
    amount = amount_cents or donation.net_cents
    if amount <= 0 or amount > donation.net_cents:
        raise ValueError("Refund amount out of range")
    if donation.payment_intent_id and not donation.payment_intent_id.startswith("invoice:"):
        from donations.services.stripe_api import client_for

        client_for(donation.campaign).v1.refunds.create(
            params={"payment_intent": donation.payment_intent_id, "amount": amount},
            options={
                "idempotency_key": f"refund-{donation.uuid}-{donation.refunded_cents + amount}"
            },
        )
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        return _set_refunded(locked, locked.refunded_cents + amount, actor=actor)
