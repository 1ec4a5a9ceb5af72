"""Where our people are: the result of geocoding a person's address, and their bureau and IRIS.

One row per person (crm.Person), written by `territory.services.people.geocode_people`. The
point itself is also copied to `Person.latitude/longitude` and the IRIS to `Person.iris_code`
(the CRM's own columns, which segments and the map read); this row keeps how it was found.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from territory.models.zones import Zone


class PersonLocation(models.Model):
    class Precision(models.TextChoices):
        HOUSENUMBER = "housenumber", _("House number")
        STREET = "street", _("Street")
        MUNICIPALITY = "municipality", _("Commune")
        UNMATCHED = "unmatched", _("Not found")
        NO_ADDRESS = "none", _("No address")

    class BureauSource(models.TextChoices):
        NONE = "", _("Unknown")
        ROLL = "roll", _("Electoral roll")
        ADDRESS = "address", _("Matched address")
        POINT = "point", _("Point in the polling station's contour")

    person = models.OneToOneField(
        "crm.Person",
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="territory_location",
    )
    precision = models.CharField(_("geocoding precision"), max_length=12, choices=Precision.choices)
    score = models.FloatField(_("geocoding score"), null=True, blank=True)
    label = models.CharField(_("matched address"), max_length=300, blank=True)
    address_key = models.CharField(
        _("address geocoded"),
        max_length=400,
        blank=True,
        help_text=_("Re-geocoded when it changes."),
    )
    bureau = models.ForeignKey(
        Zone,
        verbose_name=_("polling station"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    bureau_source = models.CharField(
        _("polling station from"), max_length=8, choices=BureauSource.choices, blank=True
    )
    iris = models.ForeignKey(
        Zone,
        verbose_name=_("IRIS"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    geocoded_at = models.DateTimeField(_("geocoded at"), auto_now=True)

    class Meta:
        verbose_name = _("person's location")
        verbose_name_plural = _("people's locations")
        indexes = [models.Index(fields=["bureau", "person"], name="territory_personloc_bureau")]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.precision}"
