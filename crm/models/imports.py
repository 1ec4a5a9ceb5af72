"""Imports of electoral rolls, members files and other tables: one row per run, its saved
column mappings, the report of every rejected row, and what undoing the run needs.

The import code itself lives in `crm.imports`; these are only its records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportFormat(models.TextChoices):
    AUTO = "auto", _("Detect")
    REU = "reu", _("Electoral roll (REU export, current layout)")
    REU2013 = "reu2013", _("Electoral roll (2013 layout)")
    TABLE = "table", _("Table (members file, spreadsheet, any CSV)")


class LegalBasis(models.TextChoices):
    """Why the campaign may hold these people (GDPR art. 6 and 9), recorded with every import."""

    ELECTORAL_ROLL = (
        "electoral_roll",
        _("Electoral roll (Code électoral L37): political communication, no email or SMS consent"),
    )
    MEMBERSHIP = "membership", _("Members and former members (GDPR art. 9(2)(d))")
    REGULAR_CONTACTS = (
        "regular_contacts",
        _("Regular contacts of the party or candidate (GDPR art. 9(2)(d))"),
    )
    CONSENT = "consent", _("People who consented, with the text they were shown")


class ImportMapping(models.Model):
    """A column mapping saved for reuse: the same export from the same tool maps the same way."""

    name = models.CharField(_("name"), max_length=150)
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="import_mappings",
        help_text=_("Empty: available to every campaign (national)."),
    )
    # Normalised headers of the file it was made for, to suggest it for the next such file.
    headers = models.JSONField(_("headers"), default=list)
    # {normalised header: field name}
    columns = models.JSONField(_("columns"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportRun(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKING = "checking", _("Dry run in progress")
        CHECKED = "checked", _("Dry run done")
        QUEUED = "queued", _("Waiting for a worker")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        UNDOING = "undoing", _("Being undone")
        UNDONE = "undone", _("Undone")

    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="import_runs",
        help_text=_("The campaign the imported people become visible to."),
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    file_size = models.BigIntegerField(_("size (bytes)"), default=0)
    requested_format = models.CharField(
        _("format"), max_length=10, choices=ImportFormat.choices, default=ImportFormat.AUTO
    )
    # What sniffing found: layout, encoding, separator, sheet, list type and commune.
    detected_format = models.CharField(
        _("detected format"), max_length=10, choices=ImportFormat.choices, blank=True
    )
    file_info = models.JSONField(_("file details"), default=dict, blank=True)
    headers = models.JSONField(_("headers"), default=list, blank=True)
    # {column index as text: field name}; empty for rolls (their columns are known).
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    consent_channels = models.JSONField(_("consent channels"), default=list, blank=True)
    consent_text = models.TextField(_("consent text shown"), blank=True)
    external_id_source = models.SlugField(_("id source"), max_length=60, default="members")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED
    )
    phase = models.CharField(_("step"), max_length=20, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    error_message = models.TextField(_("error"), blank=True)

    # The counts of the last dry run or of the import.
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("new"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    duplicates_in_file = models.PositiveIntegerField(_("duplicates in the file"), default=0)
    to_review = models.PositiveIntegerField(_("to review"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    # The first rows as they will be (or were) stored, for the dry run screen.
    preview = models.JSONField(_("preview"), default=list, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.original_name}"

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "duplicates_in_file": self.duplicates_in_file,
            "to_review": self.to_review,
            "errors": self.errors,
        }

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.UNDONE)


class ImportRowError(models.Model):
    """A row the import rejected, with the column and the reason: the downloadable report."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=200, blank=True)
    value = models.CharField(_("value"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=500)

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["row_number", "id"]
        indexes = [models.Index(fields=["run", "row_number"])]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.reason}"


class ImportChange(models.Model):
    """What an import changed on a row that existed before it, to put it back on undo.

    `kind` "snapshot": `data` holds the row's values before the import (a person, an electoral
    registration); "added": the import added this row to a person it did not create (an email,
    a phone, a tag, a registration…), and undo deletes it.
    """

    class Kind(models.TextChoices):
        SNAPSHOT = "snapshot", _("Values before the import")
        ADDED = "added", _("Row added by the import")

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    model = models.CharField(max_length=60)  # app_label.modelname
    row_id = models.BigIntegerField()
    person = models.ForeignKey(
        "crm.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("change made by an import")
        verbose_name_plural = _("changes made by imports")
        indexes = [models.Index(fields=["run", "kind", "model"])]

    def __str__(self) -> str:
        return f"{self.run_id} {self.kind} {self.model}:{self.row_id}"
