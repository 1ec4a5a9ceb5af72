"""Likely duplicates waiting for a human, and the merges staff made (each one undoable)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DuplicateCandidate(models.Model):
    """Two records that may be one person. The pair is stored with the smaller id first."""

    class Reason(models.TextChoices):
        NAME_ADDRESS = "name_address", _("Same name and address")
        NAME_BIRTH = "name_birth", _("Same name and birth date (possible homonyms)")
        SHARED_PHONE = "shared_phone", _("Same phone number")
        SIMILAR_NAME = "similar_name", _("Similar name, same birth date")
        IMPORT_CONFLICT = "import_conflict", _("One imported row points to both records")

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not the same person")

    person_a = models.ForeignKey("crm.Person", on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey("crm.Person", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("why"), max_length=20, choices=Reason.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("found"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(person_a__lt=models.F("person_b")), name="duplicate_pair_order"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.person_a_id} ~ {self.person_b_id}"


class MergeRecord(models.Model):
    """What a merge did, in enough detail to undo it.

    `snapshot` holds the merged-away record's fields, the survivor's fields before the merge,
    the ids of the rows moved from one to the other and the rows dropped as duplicates.
    It is personal data: the GDPR registry exports and erases it with either person.
    """

    survivor = models.ForeignKey(
        "crm.Person", on_delete=models.CASCADE, related_name="merges_received"
    )
    merged_person_id = models.BigIntegerField(_("merged record id"), db_index=True)
    snapshot = models.JSONField(_("snapshot"))
    merged_at = models.DateTimeField(_("merged"), auto_now_add=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.merged_person_id} → {self.survivor_id}"
