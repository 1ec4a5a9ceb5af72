"""Reference-data imports started from the admin: the uploaded file, then a background task
runs the same service as the command (import_results, import_insee, import_ban,
import_bureaux) and stores its summary or the error."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from territory.models.elections import ElectionRound


class TerritoryImport(models.Model):
    class Kind(models.TextChoices):
        RESULTS = "results", _("Election results (per polling station)")
        INSEE = "insee", _("INSEE IRIS figures or IRIS contours")
        BAN = "ban", _("National address base (BAN)")
        BUREAUX = "bureaux", _("Polling stations: INSEE tables or contours")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Refused")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="territory/%Y/%m/", max_length=300)
    extra_file = models.FileField(
        _("second file"),
        upload_to="territory/%Y/%m/",
        max_length=300,
        blank=True,
        help_text=_("The candidates table of data.gouv.fr's long results layout."),
    )
    election_round = models.ForeignKey(
        ElectionRound,
        verbose_name=_("round"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("territory import")
        verbose_name_plural = _("territory imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
