"""Retention rules and per-user list settings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RetentionRule(models.Model):
    """'People with no membership and no recent action leave us N months after the election.'

    Applying a rule detaches the campaign's people it matches (and that campaign's data about
    them); a person no campaign knows any more is deleted, keeping only their suppressions.
    """

    campaign = models.OneToOneField(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="retention_rule",
    )
    months_after_election = models.PositiveSmallIntegerField(
        _("months after the last round"), default=6
    )
    keep_members = models.BooleanField(_("keep members"), default=True)
    keep_donors = models.BooleanField(
        _("keep donors"),
        default=True,
        help_text=_("Donation records are kept anyway for the legal period."),
    )
    recent_action_months = models.PositiveSmallIntegerField(
        _("keep people who acted within (months)"), default=12
    )
    is_active = models.BooleanField(_("applied automatically"), default=False)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")

    def __str__(self) -> str:
        return str(self.campaign)


class StaffListPreference(models.Model):
    """The columns a staff member chose for the people list."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crm_list_preference"
    )
    columns = models.JSONField(default=list)

    class Meta:
        verbose_name = _("people list preference")
        verbose_name_plural = _("people list preferences")

    def __str__(self) -> str:
        return str(self.user_id)
