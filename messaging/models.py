"""Messaging: sender identities, blasts and their variants, one delivery row per recipient,
provider events (each applied once) and the embedded outbox.

A blast's audience is written once, at send time, as delivery rows (UNIQUE(blast, person)).
Workers claim rows with SELECT … FOR UPDATE SKIP LOCKED and move each row forward through
`queued → claimed → sending → sent`; a row caught in `sending` by a crash is `unknown` until
the provider's own records say whether it left (it is never resent blindly).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from crm.models import Channel, Purpose


# Callables, not fixed times: Django's check W161 takes a fixed time default for a mistaken
# "now" whenever the clock is within 10 seconds of it (and `check --deploy` fails then).
def quiet_start_default() -> dt.time:
    return dt.time(20, 0)


def quiet_end_default() -> dt.time:
    return dt.time(10, 0)


class MessagingSettings(models.Model):
    """A campaign's sending rules: tracking, quiet hours for SMS, pacing, data origin text."""

    campaign = models.OneToOneField(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="messaging_settings",
    )
    open_tracking = models.BooleanField(
        _("track opens"),
        default=False,
        help_text=_("Off by default: an open pixel is tracking that needs to be justified."),
    )
    quiet_start = models.TimeField(_("no SMS after"), default=quiet_start_default)
    quiet_end = models.TimeField(_("no SMS before"), default=quiet_end_default)
    quiet_sundays = models.BooleanField(_("no SMS on Sundays"), default=True)
    quiet_holidays = models.BooleanField(_("no SMS on public holidays"), default=True)
    sms_per_second = models.PositiveIntegerField(
        _("SMS per second"), default=10, help_text=_("The sender's throughput at the provider.")
    )
    data_origin = models.CharField(
        _("where the recipients' data comes from"),
        max_length=300,
        blank=True,
        help_text=_("Stated in every message (CNIL). Empty: what the person's record says."),
    )

    class Meta:
        verbose_name = _("messaging settings")
        verbose_name_plural = _("messaging settings")

    def __str__(self) -> str:
        return str(self.campaign)


class SenderIdentity(models.Model):
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="sender_identities",
    )
    from_name = models.CharField(_("from name"), max_length=100)
    from_email = models.EmailField(_("from address"))
    reply_to = models.EmailField(_("reply-to"), blank=True)
    sms_sender = models.CharField(
        _("SMS sender"),
        max_length=11,
        blank=True,
        help_text=_("Alphanumeric sender (up to 11 characters); it cannot receive replies."),
    )
    sms_can_receive_replies = models.BooleanField(
        _("the SMS sender receives replies"),
        default=False,
        help_text=_("Then SMS end with 'STOP' instructions, else with a short opt-out link."),
    )
    is_default = models.BooleanField(_("default"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("sender identity")
        verbose_name_plural = _("sender identities")
        ordering = ["campaign", "-is_default", "from_name"]

    def __str__(self) -> str:
        return f"{self.from_name} <{self.from_email}>"

    @property
    def domain(self) -> str:
        return self.from_email.rsplit("@", 1)[-1].lower()


class Blast(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    class Metric(models.TextChoices):
        OPENS = "opens", _("Opens")
        CLICKS = "clicks", _("Clicks")

    campaign = models.ForeignKey(
        "tenancy.Campaign", verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=[
            (Channel.EMAIL.value, Channel.EMAIL.label),
            (Channel.SMS.value, Channel.SMS.label),
        ],
        default=Channel.EMAIL,
    )
    purpose = models.CharField(
        _("purpose"),
        max_length=20,
        choices=Purpose.choices,
        default=Purpose.NEWS,
        help_text=_("Only people who consented to this purpose receive it."),
    )
    transactional = models.BooleanField(
        _("transactional"),
        default=False,
        help_text=_("Receipts and confirmations: not political, not held by electoral silence."),
    )
    segment = models.ForeignKey(
        "crm.Segment",
        verbose_name=_("audience"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sender = models.ForeignKey(
        SenderIdentity,
        verbose_name=_("sender"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="blasts",
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    preheader = models.CharField(_("preview text"), max_length=200, blank=True)
    # Email content: a list of blocks {"type": text|image|button|quote|donation, ...}.
    blocks = models.JSONField(_("content"), default=list, blank=True)
    sms_text = models.TextField(_("SMS text"), blank=True)
    track_clicks = models.BooleanField(_("track clicks"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    snapshot_count = models.PositiveIntegerField(_("audience"), null=True, blank=True)
    hold_reason = models.CharField(_("why it waits"), max_length=300, blank=True)

    # A/B test: variants are sent to a sample, the best by `ab_metric` after `ab_wait_minutes`
    # goes to the rest.
    ab_sample_percent = models.PositiveSmallIntegerField(
        _("A/B test sample (%)"), default=0, help_text=_("0: no test, everyone gets variant A.")
    )
    ab_metric = models.CharField(
        _("winner by"), max_length=10, choices=Metric.choices, default=Metric.CLICKS
    )
    ab_wait_minutes = models.PositiveIntegerField(_("decide after (minutes)"), default=240)
    ab_decided_at = models.DateTimeField(_("winner chosen"), null=True, blank=True)
    ab_winner = models.CharField(_("winning variant"), max_length=2, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("blast")
        verbose_name_plural = _("blasts")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_email(self) -> bool:
        return self.channel == Channel.EMAIL

    @property
    def editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.SCHEDULED)


class Variant(models.Model):
    """What differs in an A/B test: subject, sender or content. Empty fields: the blast's."""

    blast = models.ForeignKey(Blast, on_delete=models.CASCADE, related_name="variants")
    key = models.CharField(_("variant"), max_length=2)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    from_name = models.CharField(_("from name"), max_length=100, blank=True)
    blocks = models.JSONField(_("content"), default=list, blank=True)
    sms_text = models.TextField(_("SMS text"), blank=True)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["blast", "key"]
        constraints = [
            models.UniqueConstraint(fields=["blast", "key"], name="messaging_variant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.blast_id}/{self.key}"


# A delivery still waiting, in flight or being reconciled (pipeline.finish_if_done waits for
# these): held, queued, claimed, sending, unknown.
OPEN_STATUSES = ("held", "queued", "claimed", "sending", "unknown")


class Delivery(models.Model):
    class Status(models.TextChoices):
        HELD = "held", _("Held for the A/B winner")
        QUEUED = "queued", _("Queued")
        CLAIMED = "claimed", _("Being prepared")
        SENDING = "sending", _("Handed to the provider")
        UNKNOWN = "unknown", _("Outcome unknown (reconciling)")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Not sent (opted out)")
        CANCELLED = "cancelled", _("Cancelled")

    # No index of its own: UNIQUE(blast, person) starts with it.
    blast = models.ForeignKey(
        Blast, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # Erasure deletes the person's deliveries with them (crm.gdpr registry, messaging/apps.py).
    person = models.ForeignKey("crm.Person", null=True, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(_("address or number"), max_length=254)
    variant = models.CharField(_("variant"), max_length=2, blank=True, db_default="")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, db_default=Status.QUEUED
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True, db_default="")
    attempts = models.PositiveSmallIntegerField(_("attempts"), db_default=0)
    claimed_by = models.CharField(max_length=64, blank=True, db_default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=100, blank=True, db_default="")
    sms_segments = models.PositiveSmallIntegerField(_("SMS segments"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), db_default=Now())
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    complained_at = models.DateTimeField(_("complained"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["blast", "id"]
        constraints = [
            models.UniqueConstraint(fields=["blast", "person"], name="messaging_delivery_unique")
        ]
        # Every step of a delivery rewrites its row, and a row that changes a column some index
        # uses gets a new entry in every index whose condition it meets: both indexes below
        # leave out the rows they are never asked for (the work index: finished rows; the
        # provider index: rows the provider has not named yet), so a chunk's `sent` step adds
        # no work-index entries and its earlier steps no provider-index entries.
        indexes = [
            models.Index(
                fields=["blast", "status", "id"],
                name="messaging_delivery_work",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
            models.Index(
                fields=["provider_id"],
                name="messaging_delivery_provider",
                condition=~models.Q(provider_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blast_id}:{self.address} {self.status}"


class ProviderEvent(models.Model):
    """A webhook event, stored once: its (provider, event id) is unique, so a replay is a no-op."""

    provider = models.CharField(_("provider"), max_length=20)
    event_id = models.CharField(_("event id"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    payload = models.JSONField(_("payload"), default=dict)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="messaging_providerevent_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.kind}:{self.event_id}"


class OutboxMessage(models.Model):
    """The embedded provider: messages are kept here and shown in the admin, not sent."""

    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=10, default=Channel.EMAIL)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.CharField(_("to"), max_length=254)
    from_address = models.CharField(_("from"), max_length=300, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    is_test = models.BooleanField(_("test send"), default=False)
    created_at = models.DateTimeField(_("stored"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"
