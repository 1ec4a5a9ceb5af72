"""Site ownership, form submissions and counters: rows the page tree does not hold."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignSite(models.Model):
    """Which campaign owns which Wagtail site; template sites belong to the national team."""

    site = models.OneToOneField(
        "wagtailcore.Site",
        verbose_name=_("site"),
        on_delete=models.CASCADE,
        related_name="campaign_link",
    )
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="site_links",
    )
    is_template = models.BooleanField(
        _("template site"), default=False, help_text=_("Candidate sites can be cloned from it.")
    )
    template = models.ForeignKey(
        "self",
        verbose_name=_("cloned from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clones",
        limit_choices_to={"is_template": True},
    )
    placeholder_values = models.JSONField(_("placeholder values"), default=dict, blank=True)
    editors_group = models.OneToOneField(
        "auth.Group",
        verbose_name=_("editors group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    collection = models.ForeignKey(
        "wagtailcore.Collection",
        verbose_name=_("media collection"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign site")
        verbose_name_plural = _("campaign sites")
        ordering = ["-is_template", "site__hostname"]

    def __str__(self) -> str:
        return f"{self.site.hostname} · {self.campaign}"


class FormCounter(models.Model):
    """The live count shown on a page (signatures, RSVPs). A side table, so publishing a new
    version of the page never resets it."""

    page = models.OneToOneField(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("form counter")
        verbose_name_plural = _("form counters")

    def __str__(self) -> str:
        return f"{self.page_id}: {self.count}"


class SynchronisedPage(models.Model):
    """A template page whose published versions are pushed to every clone."""

    page = models.OneToOneField(
        "wagtailcore.Page",
        verbose_name=_("template page"),
        on_delete=models.CASCADE,
        related_name="sync_marker",
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("synchronised page")
        verbose_name_plural = _("synchronised pages")

    def __str__(self) -> str:
        return str(self.page)


class PageSource(models.Model):
    """Links a clone's page to the template page it came from, and remembers what was last
    written into it, so a local edit can be told apart from the national version."""

    page = models.OneToOneField(
        "wagtailcore.Page",
        verbose_name=_("page"),
        on_delete=models.CASCADE,
        related_name="template_source",
    )
    template_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("template page"),
        on_delete=models.CASCADE,
        related_name="clone_sources",
    )
    campaign_site = models.ForeignKey(
        CampaignSite, on_delete=models.CASCADE, related_name="page_sources"
    )
    applied_revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The template revision last written into the page.",
    )
    applied_fingerprint = models.CharField(max_length=64, blank=True)
    applied_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("page source")
        verbose_name_plural = _("page sources")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign_site", "template_page"], name="pagesource_one_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"{self.page_id} ← {self.template_page_id}"


class SyncRun(models.Model):
    """One background sync: a template page's new version, or new pages pushed to clones."""

    class Kind(models.TextChoices):
        UPDATE = "update", _("New version of a synchronised page")
        PUSH = "push", _("New page pushed to clones")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    template_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("template page"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    template_revision = models.ForeignKey(
        "wagtailcore.Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    page_title = models.CharField(_("page"), max_length=255)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    conflicts = models.PositiveIntegerField(_("kept for review"), default=0)
    pushed = models.PositiveIntegerField(_("pages added"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    report = models.JSONField(_("report"), default=list, blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.page_title}"


class SyncConflict(models.Model):
    """A clone page edited locally when a new national version came: kept for review."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To review")
        ACCEPTED = "accepted", _("National version accepted")
        KEPT = "kept", _("Local version kept")

    source = models.ForeignKey(PageSource, on_delete=models.CASCADE, related_name="conflicts")
    template_revision = models.ForeignKey(
        "wagtailcore.Revision", on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("page to review")
        verbose_name_plural = _("pages to review")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=models.Q(status="pending"),
                name="syncconflict_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} ({self.get_status_display()})"


class BulkCloneJob(models.Model):
    """A CSV of candidates cloned in the background, one site per row."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    template = models.ForeignKey(
        CampaignSite, verbose_name=_("template site"), on_delete=models.PROTECT, related_name="+"
    )
    publish = models.BooleanField(_("publish the sites"), default=True)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )

    class Meta:
        verbose_name = _("bulk clone")
        verbose_name_plural = _("bulk clones")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name or f"#{self.pk}"

    def counts(self) -> dict[str, int]:
        rows = dict(
            self.rows.values_list("status")
            .annotate(n=models.Count("pk"))
            .values_list("status", "n")
        )
        total = sum(rows.values())
        return {
            "total": total,
            "done": rows.get("ok", 0) + rows.get("failed", 0),
            "ok": rows.get("ok", 0),
            "failed": rows.get("failed", 0),
        }


class BulkCloneRow(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        OK = "ok", _("Created")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(BulkCloneJob, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(_("line"))
    data = models.JSONField(_("row"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    message = models.TextField(_("message"), blank=True)
    site = models.ForeignKey(
        "wagtailcore.Site", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("bulk clone row")
        verbose_name_plural = _("bulk clone rows")
        ordering = ["job", "line"]
        constraints = [
            models.UniqueConstraint(fields=["job", "line"], name="bulkclonerow_unique_line")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.line}"
