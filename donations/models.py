"""Donations: each campaign's payment account and finance rules, donation attempts, gifts,
monthly gifts, the Stripe webhook inbox, and the treasurer's receipts (reçus-dons).

Amounts are integers in cents (euros by default). The webhook is the source of truth for online
gifts: a `Donation` row exists only once Stripe said the money arrived.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class DonationSettings(models.Model):
    """One campaign's payment account (its own Stripe account) and its finance rules."""

    class CapPeriod(models.TextChoices):
        NONE = "none", _("No limit")
        ELECTION = "election", _("Per election")
        YEAR = "year", _("Per calendar year")

    campaign = models.OneToOneField(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="donation_settings",
    )
    stripe_publishable_key = models.CharField(
        _("Stripe publishable key"), max_length=200, blank=True
    )
    # Fernet tokens (donations.services.secrets); never shown back in the admin.
    stripe_secret_key_encrypted = models.TextField(blank=True, editable=False)
    stripe_webhook_secret_encrypted = models.TextField(blank=True, editable=False)
    collection_opens_on = models.DateField(_("collection opens on"), null=True, blank=True)
    collection_closes_on = models.DateField(_("collection closes on"), null=True, blank=True)
    spending_ceiling_cents = models.PositiveBigIntegerField(
        _("spending ceiling (cents)"), null=True, blank=True
    )
    tax_reduction_percent = models.PositiveSmallIntegerField(_("tax reduction (%)"), default=66)
    goal_cents = models.PositiveBigIntegerField(_("goal (cents)"), null=True, blank=True)
    # Only for the "other" legal framework; the French ones follow the law.
    custom_cap_cents = models.PositiveBigIntegerField(
        _("limit per donor (cents)"), null=True, blank=True
    )
    custom_cap_period = models.CharField(
        _("limit period"), max_length=10, choices=CapPeriod.choices, default=CapPeriod.NONE
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("donation settings")
        verbose_name_plural = _("donation settings")

    def __str__(self) -> str:
        return str(self.campaign)

    @property
    def has_account(self) -> bool:
        return bool(self.stripe_secret_key_encrypted and self.stripe_webhook_secret_encrypted)


class Method(models.TextChoices):
    CARD = "card", _("Card")
    SEPA_DEBIT = "sepa_debit", _("SEPA direct debit")
    CHEQUE = "cheque", _("Cheque")
    TRANSFER = "transfer", _("Bank transfer")
    CASH = "cash", _("Cash")


ONLINE_METHODS = (Method.CARD, Method.SEPA_DEBIT)
OFFLINE_METHODS = (Method.CHEQUE, Method.TRANSFER, Method.CASH)


class Civility(models.TextChoices):
    NONE = "", _("Not given")
    MADAME = "Mme", _("Ms")
    MONSIEUR = "M.", _("Mr")


class DonorIdentity(models.Model):
    """What the law asks about a donor (CNCCFP): name, civility, tax address, attestations."""

    civility = models.CharField(_("civility"), max_length=5, choices=Civility.choices, blank=True)
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("email"), blank=True)
    street = models.CharField(_("street address"), max_length=300, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=150, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    natural_person = models.BooleanField(_("natural person (attested)"), default=False)
    french_or_resident = models.BooleanField(
        _("French national or resident in France (attested)"), default=False
    )

    class Meta:
        abstract = True

    @property
    def donor_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class DonationAttempt(DonorIdentity):
    """One submission of the donation form. Reserves its amount under the donor's cap until it
    succeeds, fails or expires. `form_token` makes a double submission one attempt."""

    class Frequency(models.TextChoices):
        ONCE = "once", _("One-off")
        MONTHLY = "monthly", _("Monthly")

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        PENDING = "pending", _("Waiting for payment")
        PROCESSING = "processing", _("Processing")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    form_token = models.CharField(max_length=64, unique=True)
    campaign = models.ForeignKey(
        "tenancy.Campaign", on_delete=models.CASCADE, related_name="donation_attempts"
    )
    person = models.ForeignKey(
        "crm.Person", on_delete=models.CASCADE, null=True, related_name="donation_attempts"
    )
    page_id = models.PositiveIntegerField(null=True, blank=True)
    source_url = models.CharField(max_length=500, blank=True)
    blast_id = models.CharField(max_length=40, blank=True)
    amount_cents = models.PositiveIntegerField()
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.ONCE)
    method = models.CharField(max_length=12, choices=Method.choices, default=Method.CARD)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CREATED)
    payment_intent_id = models.CharField(max_length=100, blank=True, db_index=True)
    client_secret = models.CharField(max_length=200, blank=True)
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    consents = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("donation attempt")
        verbose_name_plural = _("donation attempts")

    def __str__(self) -> str:
        return f"{self.amount_cents / 100:.2f} € · {self.donor_name} · {self.status}"


class RecurringGift(models.Model):
    """A monthly gift: a Stripe Subscription on the campaign's account."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", _("Incomplete")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment failed, retrying")
        CANCELED = "canceled", _("Cancelled")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(
        "tenancy.Campaign", on_delete=models.CASCADE, related_name="recurring_gifts"
    )
    person = models.ForeignKey(
        "crm.Person", on_delete=models.SET_NULL, null=True, related_name="recurring_gifts"
    )
    attempt = models.OneToOneField(
        DonationAttempt, on_delete=models.SET_NULL, null=True, related_name="recurring_gift"
    )
    amount_cents = models.PositiveIntegerField(_("monthly amount (cents)"))
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    stripe_subscription_id = models.CharField(max_length=100, unique=True)
    stripe_price_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INCOMPLETE)
    # The card or mandate charged each month. Blank on gifts made before the donor could change
    # it: the attempt's method and Stripe's customer default apply then.
    method = models.CharField(_("method"), max_length=12, choices=Method.choices, blank=True)
    stripe_payment_method_id = models.CharField(max_length=100, blank=True)
    payment_method_brand = models.CharField(_("card brand"), max_length=20, blank=True)
    payment_method_last4 = models.CharField(_("last 4 digits"), max_length=4, blank=True)
    # The last SetupIntent applied: a replayed confirmation changes nothing, and one created
    # before it (an older request replayed) is refused rather than bringing back an older card.
    stripe_setup_intent_id = models.CharField(max_length=100, blank=True)
    stripe_setup_intent_created = models.DateTimeField(null=True, blank=True)
    payment_method_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("monthly gift")
        verbose_name_plural = _("monthly gifts")

    def __str__(self) -> str:
        return f"{self.amount_cents / 100:.2f} €/mois · {self.person}"


class PaymentFailureNotice(models.Model):
    """The donor was told that an attempt to collect a month of their gift failed: one row per
    gift, invoice and attempt (UNIQUE), committed with the sending, so a replayed event, a
    redelivered task or a Redis restart never sends it twice."""

    recurring_gift = models.ForeignKey(
        RecurringGift,
        on_delete=models.CASCADE,
        related_name="failure_notices",
        db_index=False,  # the unique (gift, invoice, attempt) index serves it
    )
    invoice_id = models.CharField(max_length=100)
    attempt = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("failed payment notice")
        verbose_name_plural = _("failed payment notices")
        constraints = [
            models.UniqueConstraint(
                fields=["recurring_gift", "invoice_id", "attempt"],
                name="paymentfailurenotice_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} #{self.attempt}"


class Donation(DonorIdentity):
    """Money received: an online payment Stripe confirmed, or an offline gift the treasurer
    entered. One row per payment (UNIQUE payment intent)."""

    class Kind(models.TextChoices):
        GIFT = "gift", _("Gift")
        MEMBERSHIP_FEE = "membership_fee", _("Membership fee")

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Received")
        REFUNDED = "refunded", _("Refunded")
        DISPUTED = "disputed", _("Disputed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="donations",
    )
    # Kept when the donor is erased (GDPR): the gift is a finance record with its own copy of
    # what the law requires (crm.gdpr KEEP).
    person = models.ForeignKey(
        "crm.Person",
        verbose_name=_("donor"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="donations",
    )
    attempt = models.ForeignKey(
        DonationAttempt, on_delete=models.SET_NULL, null=True, blank=True, related_name="donations"
    )
    recurring_gift = models.ForeignKey(
        RecurringGift, on_delete=models.SET_NULL, null=True, blank=True, related_name="donations"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.GIFT)
    method = models.CharField(_("method"), max_length=12, choices=Method.choices)
    amount_cents = models.PositiveIntegerField(_("amount (cents)"))
    refunded_cents = models.PositiveIntegerField(_("refunded (cents)"), default=0)
    currency = models.CharField(max_length=3, default="EUR")
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SUCCEEDED
    )
    received_at = models.DateTimeField(_("received"), db_index=True)
    payment_intent_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    charge_id = models.CharField(max_length=100, blank=True)
    invoice_id = models.CharField(max_length=100, blank=True)
    reference = models.CharField(_("reference (cheque number...)"), max_length=100, blank=True)
    page_id = models.PositiveIntegerField(null=True, blank=True)
    source_url = models.CharField(_("source"), max_length=500, blank=True)
    blast_id = models.CharField(_("blast"), max_length=40, blank=True)
    action_id = models.PositiveBigIntegerField(null=True, blank=True)
    thanked_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["person", "received_at"]),
            models.Index(fields=["campaign", "received_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=F("amount_cents")), name="donation_refund_le_amount"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount_cents / 100:.2f} € · {self.donor_name}"

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.refunded_cents

    @property
    def amount(self) -> str:
        return f"{self.amount_cents / 100:.2f}"


class WebhookEvent(models.Model):
    """Every verified Stripe event, once per campaign and event id: the inbox that makes
    processing exactly-once."""

    campaign = models.ForeignKey(
        "tenancy.Campaign",
        on_delete=models.CASCADE,
        related_name="stripe_events",
        db_index=False,  # the unique (campaign, event_id) index serves it
    )
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    stripe_created = models.BigIntegerField(default=0)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "event_id"], name="webhookevent_unique")
        ]
        indexes = [  # the drain and the sweeper read the pending events, oldest first
            models.Index(
                fields=["stripe_created", "id"],
                condition=models.Q(processed_at__isnull=True),
                name="webhookevent_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"


class ReceiptRange(models.Model):
    """A block of receipt numbers the CNCCFP issued to the campaign's financial agent."""

    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="receipt_ranges",
    )
    first_number = models.PositiveIntegerField(_("first number"))
    last_number = models.PositiveIntegerField(_("last number"))
    next_number = models.PositiveIntegerField(_("next number"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("entered"), auto_now_add=True)

    class Meta:
        verbose_name = _("receipt range")
        verbose_name_plural = _("receipt ranges")
        ordering = ["campaign", "first_number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_number__lte=F("last_number"))
                & Q(next_number__gte=F("first_number"))
                & Q(next_number__lte=F("last_number") + 1),
                name="receiptrange_bounds",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_number}–{self.last_number}"

    @property
    def remaining(self) -> int:
        return self.last_number + 1 - self.next_number


class Receipt(models.Model):
    """A numbered reçu-don. A number is used once: a cancelled receipt keeps it."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        CANCELLED = "cancelled", _("Cancelled")

    campaign = models.ForeignKey(
        "tenancy.Campaign", on_delete=models.CASCADE, related_name="receipts"
    )
    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="receipts")
    receipt_range = models.ForeignKey(
        ReceiptRange, on_delete=models.PROTECT, related_name="receipts"
    )
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="issued")
    issued_at = models.DateTimeField(_("issued"), auto_now_add=True)
    sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    send_count = models.PositiveIntegerField(default=0)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="receipt_number_unique"),
            models.UniqueConstraint(
                fields=["donation"],
                condition=Q(status="issued"),
                name="receipt_one_issued_per_donation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}"
