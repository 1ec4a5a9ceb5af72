"""Addresses: the national address base (BAN) for offline geocoding, and the voters' addresses
of each bureau de vote published by INSEE (REU extract)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from territory.models.zones import Zone


class Address(models.Model):
    """One BAN address point. `street_key` is the normalised street name the geocoder matches."""

    ban_id = models.CharField(_("BAN id"), max_length=60, unique=True)
    commune_code = models.CharField(_("commune (INSEE)"), max_length=5)
    commune_name = models.CharField(_("commune name"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=5, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    repetition = models.CharField(_("repetition"), max_length=10, blank=True)
    street = models.CharField(_("street"), max_length=200)
    street_key = models.CharField(_("normalised street"), max_length=200)
    locality = models.CharField(_("locality (lieu-dit)"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    position_type = models.CharField(_("position type"), max_length=30, blank=True)
    bureau = models.ForeignKey(
        Zone,
        verbose_name=_("polling station"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    iris = models.ForeignKey(
        Zone,
        verbose_name=_("IRIS"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        indexes = [models.Index(fields=["commune_code", "street_key"])]

    def __str__(self) -> str:
        number = f"{self.number or ''}{' ' + self.repetition if self.repetition else ''}"
        return f"{number} {self.street}, {self.postcode} {self.commune_name}".strip()


class BureauAddress(models.Model):
    """A voter address of a bureau, from INSEE's "bureaux de vote et adresses de leurs
    électeurs" table. These points draw approximate contours and weigh IRIS figures."""

    bureau = models.ForeignKey(
        Zone,
        verbose_name=_("polling station"),
        on_delete=models.CASCADE,
        related_name="voter_addresses",
    )
    source_id = models.CharField(_("source id"), max_length=80)
    label = models.CharField(_("address"), max_length=300, blank=True)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    geo_type = models.CharField(_("geocoding precision"), max_length=20, blank=True)
    geo_score = models.FloatField(_("geocoding score"), null=True, blank=True)
    iris = models.ForeignKey(
        Zone,
        verbose_name=_("IRIS"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("polling station address")
        verbose_name_plural = _("polling station addresses")
        constraints = [
            models.UniqueConstraint(fields=["bureau", "source_id"], name="bureauaddress_unique")
        ]

    def __str__(self) -> str:
        return self.label or self.source_id
