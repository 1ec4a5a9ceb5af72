"""One table for every kind of territory, linked by parents (a DAG, as in Espace adhérent).

A commune has a département parent, a bureau de vote has its commune (and its circonscription
when known), an IRIS has its commune. Codes are text: 2A004, 01001, 41998_0001.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Zone(models.Model):
    class Type(models.TextChoices):
        COUNTRY = "country", _("Country")
        REGION = "region", _("Region")
        DEPARTEMENT = "departement", _("Département")
        CIRCONSCRIPTION = "circonscription", _("Constituency (circonscription)")
        CANTON = "canton", _("Canton")
        COMMUNE = "commune", _("Commune")
        ARRONDISSEMENT = "arrondissement", _("Municipal arrondissement")
        IRIS = "iris", _("IRIS")
        BUREAU = "bureau", _("Polling station (bureau de vote)")

    class GeometrySource(models.TextChoices):
        NONE = "", _("None")
        IMPORTED = "imported", _("Imported contour")
        VORONOI = "voronoi", _("Computed from voter addresses (approximate)")
        HULL = "hull", _("Envelope of known addresses (approximate)")

    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    code = models.CharField(_("code"), max_length=24)
    name = models.CharField(_("name"), max_length=200)
    parents = models.ManyToManyField(
        "self", verbose_name=_("parents"), symmetrical=False, related_name="children", blank=True
    )
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    postal_codes = models.JSONField(_("postal codes"), default=list, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)

    # GeoJSON geometry (WGS84). PostGIS is not required: shapely does the geometry work.
    geometry = models.JSONField(_("contour"), null=True, blank=True)
    geometry_source = models.CharField(
        _("contour source"),
        max_length=10,
        choices=GeometrySource.choices,
        default=GeometrySource.NONE,
        blank=True,
    )
    centroid_lon = models.FloatField(_("centroid longitude"), null=True, blank=True)
    centroid_lat = models.FloatField(_("centroid latitude"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=120, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["type", "code"]
        constraints = [models.UniqueConstraint(fields=["type", "code"], name="zone_type_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_approximate(self) -> bool:
        return self.geometry_source in {self.GeometrySource.VORONOI, self.GeometrySource.HULL}

    @property
    def local_code(self) -> str:
        """A bureau's number within its commune ("0001"); other zones' code as is."""
        if self.type == self.Type.BUREAU and "_" in self.code:
            return self.code.rsplit("_", 1)[1]
        return self.code

    def parent_of_type(self, zone_type: str) -> Zone | None:
        for parent in self.parents.all():
            if parent.type == zone_type:
                return parent
        return None

    def attribute(self, key: str, default: Any = None) -> Any:
        return (self.attributes or {}).get(key, default)
