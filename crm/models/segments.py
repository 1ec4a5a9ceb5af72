"""Segments: saved filters over people (dynamic) and frozen lists of people (static).

A dynamic segment stores a JSON criteria tree (`crm.segments`), validated on save and compiled
into one SQL query whenever it is counted, sampled, exported or snapshotted. A static list
stores its members; it is what freezing a segment, a random split or "add to list" produce.
Both belong to one campaign, whose people they may contain.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Segment(models.Model):
    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", _("Dynamic segment")
        STATIC = "static", _("Static list")

    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="segments",
    )
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DYNAMIC)
    # Dynamic: the criteria. Static: the criteria it was frozen from (kept for the record).
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    # Static lists made from another segment (freeze, split) keep a link to it.
    source = models.ForeignKey(
        "self",
        verbose_name=_("made from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="derived",
    )
    # The count when last computed, shown in lists without recomputing every segment.
    last_count = models.PositiveIntegerField(_("last count"), null=True, blank=True)
    last_counted_at = models.DateTimeField(_("last counted"), null=True, blank=True)
    frozen_at = models.DateTimeField(_("frozen"), null=True, blank=True)
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
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["campaign", "kind"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("crm_segment", args=[self.pk])

    @property
    def is_static(self) -> bool:
        return self.kind == self.Kind.STATIC


class SegmentMember(models.Model):
    """One person in a static list."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(
        "crm.Person", on_delete=models.CASCADE, related_name="segment_memberships"
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("list member")
        verbose_name_plural = _("list members")
        constraints = [
            models.UniqueConstraint(fields=["segment", "person"], name="segmentmember_unique")
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.person_id}"
