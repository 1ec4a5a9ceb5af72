"""Consent with proof, and the suppression list that outlives everything.

A consent row says: this person agreed (or refused) to be contacted by this campaign, on this
channel, for this purpose, having been shown exactly this text, at this time, from this source.
Texts are immutable and versioned; a withdrawal sets `withdrawn_at` and never deletes the proof.

Suppressions are keyed hashes of an email or phone: they survive merges, re-imports and erasure,
so a later import cannot re-add someone who said no.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone calls")
    POST = "post", _("Post")


class Purpose(models.TextChoices):
    NEWS = "news", _("News and calls to action")
    FUNDRAISING = "fundraising", _("Fundraising")
    VOLUNTEERING = "volunteering", _("Volunteering")
    EVENTS = "events", _("Events")


class ImmutableError(RuntimeError):
    pass


class ConsentText(models.Model):
    """The exact wording shown next to a checkbox. Never edited: a new wording is a new version."""

    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign (controller)"),
        on_delete=models.PROTECT,
        related_name="consent_texts",
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    version = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("text"))
    text_hash = models.CharField(_("text fingerprint (SHA-256)"), max_length=64, editable=False)
    language = models.CharField(_("language"), max_length=8, default="fr")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("consent text")
        verbose_name_plural = _("consent texts")
        ordering = ["campaign", "purpose", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "purpose", "version"], name="consenttext_version_unique"
            ),
            models.UniqueConstraint(
                fields=["campaign", "purpose", "text_hash"], name="consenttext_hash_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableError("Consent texts are never changed: create a new version.")
        self.text_hash = self.fingerprint(self.text)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableError("Consent texts are proof: they are never deleted.")

    @staticmethod
    def fingerprint(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()


class Consent(models.Model):
    class SourceKind(models.TextChoices):
        WEB = "web", _("Web form")
        IMPORT = "import", _("Import")
        CANVASS = "canvass", _("Canvasser")
        STAFF = "staff", _("Staff entry")
        SELF_SERVICE = "self_service", _("Supporter's own page")

    person = models.ForeignKey("crm.Person", on_delete=models.CASCADE, related_name="consents")
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign (controller)"),
        on_delete=models.CASCADE,
        related_name="consents",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    text = models.ForeignKey(
        ConsentText, verbose_name=_("text shown"), on_delete=models.PROTECT, related_name="+"
    )
    given_at = models.DateTimeField(_("given"))
    source_kind = models.CharField(_("source"), max_length=15, choices=SourceKind.choices)
    source_detail = models.CharField(
        _("source detail"), max_length=500, blank=True, help_text=_("Page URL, import, canvasser")
    )
    # Double opt-in: consent counts once the person clicked the link sent to them.
    confirmation_required = models.BooleanField(_("needs confirmation"), default=False)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawal_source = models.CharField(_("withdrawn through"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at", "-id"]
        indexes = [
            models.Index(fields=["campaign", "channel", "purpose", "withdrawn_at"]),
            models.Index(fields=["person", "campaign", "channel"]),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.campaign_id} {self.channel}/{self.purpose}"

    @property
    def is_active(self) -> bool:
        confirmed = not self.confirmation_required or self.confirmed_at is not None
        return self.withdrawn_at is None and confirmed


class Suppression(models.Model):
    """'Never contact this address/number': a keyed hash, kept when the person is erased.

    `campaign` empty means every campaign (after erasure, or a complaint).
    """

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email address")
        PHONE = "phone", _("Phone number")
        # Names and full birth date as on the electoral roll: an erased person is not
        # brought back by the next import of the roll (their opposition outlives their data).
        ROLL = "roll", _("Electoral roll identity")

    class Reason(models.TextChoices):
        WITHDRAWN = "withdrawn", _("Consent withdrawn")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from a message")
        COMPLAINED = "complained", _("Spam complaint")
        BOUNCED = "bounced", _("Hard bounce")
        ERASED = "erased", _("Data erased on request")

    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices)
    key_hash = models.CharField(_("keyed hash"), max_length=64)
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=Channel.choices,
        blank=True,
        help_text=_("Empty: every channel."),
    )
    reason = models.CharField(_("reason"), max_length=15, choices=Reason.choices)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")
        constraints = [
            models.UniqueConstraint(
                fields=["key_hash", "campaign", "channel"],
                condition=models.Q(campaign__isnull=False),
                name="suppression_unique",
            ),
            models.UniqueConstraint(
                fields=["key_hash", "channel"],
                condition=models.Q(campaign__isnull=True),
                name="suppression_unique_everywhere",
            ),
        ]
        indexes = [models.Index(fields=["key_hash", "channel"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key_hash[:8]}… {self.reason}"
