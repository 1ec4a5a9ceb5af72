"""Tags, typed custom fields and volunteer interests: what campaigns add to a person."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Tag(models.Model):
    """A label. Global tags (no campaign) belong to the national team; others to one campaign."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=120)
    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tags",
        help_text=_("Empty: a national tag, visible to every campaign."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "slug"],
                condition=models.Q(campaign__isnull=False),
                name="tag_unique_per_campaign",
            ),
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(campaign__isnull=True),
                name="tag_unique_national",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PersonTag(models.Model):
    person = models.ForeignKey("crm.Person", on_delete=models.CASCADE, related_name="person_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="person_tags")
    added_at = models.DateTimeField(_("added"), auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("tag of a person")
        verbose_name_plural = _("tags of people")
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="persontag_unique")]
        indexes = [models.Index(fields=["tag", "person"])]

    def __str__(self) -> str:
        return f"{self.person_id}:{self.tag_id}"


class Interest(models.Model):
    """A way to volunteer (door-to-door, phoning, events, logistics…)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)

    class Meta:
        verbose_name = _("volunteer interest")
        verbose_name_plural = _("volunteer interests")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """A field defined in the admin, for every campaign (national) or for one."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes/no")
        CHOICE = "choice", _("Choice")

    campaign = models.ForeignKey(
        "tenancy.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="custom_fields",
        help_text=_("Empty: a national field, shown for every campaign."),
    )
    key = models.SlugField(_("key"), max_length=60)
    label = models.CharField(_("label"), max_length=150)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.TEXT)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("For choice fields: the options.")
    )
    is_sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_("Reveals political opinions: hidden from roles without sensitive access."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "key"],
                condition=models.Q(campaign__isnull=False),
                name="customfield_unique",
            ),
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(campaign__isnull=True),
                name="customfield_unique_national",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class CustomFieldValue(models.Model):
    """One typed value: a column per type, so segments compare numbers and dates as such."""

    person = models.ForeignKey("crm.Person", on_delete=models.CASCADE, related_name="custom_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    value_text = models.TextField(blank=True)
    value_number = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    value_bool = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("custom field value")
        verbose_name_plural = _("custom field values")
        constraints = [
            models.UniqueConstraint(fields=["person", "field"], name="customvalue_unique")
        ]
        indexes = [
            models.Index(fields=["field", "value_text"]),
            models.Index(fields=["field", "value_number"], name="crm_customvalue_number"),
            models.Index(fields=["field", "value_date"], name="crm_customvalue_date"),
            models.Index(fields=["field", "value_bool"], name="crm_customvalue_bool"),
        ]

    def __str__(self) -> str:
        return f"{self.field_id}={self.value}"

    @property
    def value(self) -> Any:
        kind = self.field.type
        if kind == CustomField.Type.NUMBER:
            return self.value_number
        if kind == CustomField.Type.DATE:
            return self.value_date
        if kind == CustomField.Type.BOOLEAN:
            return self.value_bool
        return self.value_text

    def set_value(self, value: Any) -> None:
        self.value_text, self.value_number, self.value_date, self.value_bool = "", None, None, None
        kind = self.field.type
        if kind == CustomField.Type.NUMBER:
            self.value_number = Decimal(str(value))
        elif kind == CustomField.Type.DATE:
            self.value_date = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
        elif kind == CustomField.Type.BOOLEAN:
            self.value_bool = bool(value)
        else:
            self.value_text = str(value)
