"""The timeline: every event about a person is a typed, timestamped action."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KeyTextTransform
from django.utils.translation import gettext_lazy as _


class ActionType(models.TextChoices):
    SIGNED_PETITION = "petition", _("Signed a petition")
    SIGNED_UP = "signup", _("Signed up")
    VOLUNTEERED = "volunteer", _("Volunteered")
    RSVPED = "rsvp", _("RSVP'd to an event")
    CONTACTED = "contact", _("Sent a message")
    DONATED = "donation", _("Donated")
    EMAIL_SENT = "email_sent", _("Email sent")
    EMAIL_OPENED = "email_opened", _("Email opened")
    EMAIL_CLICKED = "email_clicked", _("Email clicked")
    SMS_SENT = "sms_sent", _("SMS sent")
    SMS_REPLIED = "sms_replied", _("SMS replied")
    DOOR_KNOCKED = "door", _("Door knocked")
    CALLED = "call", _("Called")
    IMPORTED = "import", _("Imported")
    MERGED = "merge", _("Merged")
    UNMERGED = "unmerge", _("Merge undone")
    CONSENT_GIVEN = "consent_given", _("Consent given")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    CONSENT_CONFIRMED = "consent_confirmed", _("Consent confirmed")
    NOTE = "note", _("Note")
    TAG_ADDED = "tag_added", _("Tag added")
    TAG_REMOVED = "tag_removed", _("Tag removed")
    UPDATED = "updated", _("Record updated")


# Actions whose details reveal political opinions (GDPR art. 9).
SENSITIVE_ACTION_TYPES = frozenset({ActionType.NOTE, ActionType.DOOR_KNOCKED, ActionType.CALLED})
# What the person did themselves (retention counts these as "recent activity", not staff edits).
ENGAGEMENT_ACTION_TYPES = frozenset(
    {
        ActionType.SIGNED_PETITION,
        ActionType.SIGNED_UP,
        ActionType.VOLUNTEERED,
        ActionType.RSVPED,
        ActionType.CONTACTED,
        ActionType.DONATED,
        ActionType.EMAIL_OPENED,
        ActionType.EMAIL_CLICKED,
        ActionType.SMS_REPLIED,
        ActionType.DOOR_KNOCKED,
        ActionType.CALLED,
        ActionType.CONSENT_GIVEN,
        ActionType.CONSENT_CONFIRMED,
    }
)
# Web actions a site page can record.
WEB_ACTION_TYPES = frozenset(
    {
        ActionType.SIGNED_PETITION,
        ActionType.SIGNED_UP,
        ActionType.VOLUNTEERED,
        ActionType.RSVPED,
        ActionType.CONTACTED,
    }
)


class Action(models.Model):
    # person and campaign: no index of their own, the (person|campaign, type, occurred_at)
    # indexes start with them (every action written, e.g. one per blast recipient, paid twice).
    person = models.ForeignKey(
        "crm.Person", on_delete=models.CASCADE, related_name="actions", db_index=False
    )
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="person_actions",
        db_index=False,
    )
    type = models.CharField(_("type"), max_length=20, choices=ActionType.choices)
    occurred_at = models.DateTimeField(_("when"))
    # Where it came from: a page URL, an import, a canvasser, a staff member.
    source = models.CharField(_("source"), max_length=500, blank=True)
    # The site page it happened on (plain id: the page may be deleted, the history stays).
    source_page_id = models.PositiveIntegerField(_("page"), null=True, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["person", "type", "occurred_at"]),
            models.Index(fields=["campaign", "type", "occurred_at"]),
            models.Index(fields=["source_page_id", "type"]),
            # Segments over every campaign ("donated in the last 90 days"): a range of one type.
            models.Index(
                fields=["type", "occurred_at"], include=["person"], name="crm_action_type_time"
            ),
            # "Opened or clicked blast Z": messaging writes the blast id into the action data.
            models.Index(
                KeyTextTransform("blast_id", "data"),
                "type",
                name="crm_action_blast",
                condition=models.Q(
                    type__in=[
                        "email_opened",
                        "email_clicked",
                        "email_sent",
                        "sms_sent",
                        "sms_replied",
                    ]
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.occurred_at:%Y-%m-%d}"

    @property
    def is_sensitive(self) -> bool:
        return self.type in SENSITIVE_ACTION_TYPES


class Note(models.Model):
    """Free text written by staff. Sensitive: it often records opinions."""

    person = models.ForeignKey("crm.Person", on_delete=models.CASCADE, related_name="notes")
    campaign = models.ForeignKey(
        "tenancy.Campaign", verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="+"
    )
    text = models.TextField(_("note"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.text[:40]}"
