"""Tenancy: a Campaign owns its people, site, territory and money; staff act through roles."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

INSEE_COMMUNE_CODE = re.compile(r"^(?:[0-9]{2}|2[AB])[0-9]{3}$")
# Département (2 or 3 characters, 2A/2B, ZZ for French people abroad) and a 2-digit number.
CIRCONSCRIPTION_CODE = re.compile(r"^(?:[0-9]{2,3}|2[AB]|ZZ)-[0-9]{2}$")


def validate_commune_codes(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("Enter a list of INSEE commune codes."))
    bad = [
        code for code in value if not isinstance(code, str) or not INSEE_COMMUNE_CODE.match(code)
    ]
    if bad:
        raise ValidationError(
            _("Not INSEE commune codes (5 characters, e.g. 41018 or 2A004): %(codes)s"),
            params={"codes": ", ".join(map(str, bad))},
        )


def validate_circonscription_code(value: str) -> None:
    if value and not CIRCONSCRIPTION_CODE.match(value):
        raise ValidationError(
            _("Enter a circonscription as département-number, e.g. 41-01 or ZZ-05.")
        )


class Campaign(models.Model):
    """The national team, or one candidate's campaign: the unit of data ownership."""

    class Kind(models.TextChoices):
        NATIONAL = "national", _("National team")
        CANDIDATE = "candidate", _("Candidate campaign")

    class LegalFramework(models.TextChoices):
        FR_CANDIDATE = "fr_candidate", _("French candidate (Code électoral L52-8)")
        FR_PARTY = "fr_party", _("French political party (loi 88-227)")
        OTHER = "other", _("Other country or organisation")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CANDIDATE)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("national team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="candidate_campaigns",
        limit_choices_to={"kind": Kind.NATIONAL},
    )
    is_active = models.BooleanField(_("active"), default=True)

    # Territory: data, not code. Codes are text (2A/2B, leading zeros).
    commune_codes = models.JSONField(
        _("communes (INSEE codes)"),
        default=list,
        blank=True,
        validators=[validate_commune_codes],
    )
    circonscription_code = models.CharField(
        _("circonscription"),
        max_length=6,
        blank=True,
        validators=[validate_circonscription_code],
    )
    election = models.ForeignKey(
        "territory.Election",
        verbose_name=_("election"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    legal_framework = models.CharField(
        _("legal framework"),
        max_length=20,
        choices=LegalFramework.choices,
        default=LegalFramework.FR_CANDIDATE,
    )

    # Contact and legal details (mentions légales, receipts, message footers).
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    legal_entity_name = models.CharField(_("publisher (legal name)"), max_length=200, blank=True)
    legal_address = models.TextField(_("publisher address"), blank=True)
    publication_director = models.CharField(_("publication director"), max_length=200, blank=True)
    financial_agent_name = models.CharField(
        _("financial agent (mandataire financier)"), max_length=200, blank=True
    )
    financial_agent_address = models.TextField(_("financial agent address"), blank=True)
    financial_agent_declared_on = models.DateField(
        _("financial agent declared on"), null=True, blank=True
    )
    host_details = models.TextField(
        _("hosting provider"),
        blank=True,
        help_text=_("Name, address and phone of the host, shown in the legal notice."),
    )

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_national(self) -> bool:
        return self.kind == self.Kind.NATIONAL

    def clean(self) -> None:
        if self.parent_id and self.kind == self.Kind.NATIONAL:
            raise ValidationError({"parent": _("A national team has no parent.")})


class StaffRole(models.Model):
    """What one user may do for one campaign. A user may hold several roles."""

    class Role(models.TextChoices):
        NATIONAL_ADMIN = "national_admin", _("National admin")
        MANAGER = "manager", _("Campaign manager")
        STAFF = "staff", _("Campaign staff")
        TREASURER = "treasurer", _("Treasurer")
        CANVASSER = "canvasser", _("Canvasser")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="staff_roles",
    )
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="staff_roles"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        ordering = ["campaign", "role", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "campaign", "role"], name="staffrole_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.campaign}"

    def clean(self) -> None:
        if self.role == self.Role.NATIONAL_ADMIN and self.campaign.kind != Campaign.Kind.NATIONAL:
            raise ValidationError({"role": _("National admins belong to a national team.")})
