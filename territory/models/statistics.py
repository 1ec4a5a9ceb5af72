"""INSEE figures per zone (mostly IRIS) and how IRIS figures spread over bureaux de vote."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from territory.models.zones import Zone


class ZoneFigure(models.Model):
    """One census or Filosofi figure of one zone for one vintage (e.g. pop_65p in 2021)."""

    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.CASCADE, related_name="figures"
    )
    key = models.CharField(_("figure"), max_length=40)
    year = models.PositiveSmallIntegerField(_("year"))
    value = models.FloatField(_("value"))
    source = models.CharField(_("source"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("figure")
        verbose_name_plural = _("figures")
        constraints = [
            models.UniqueConstraint(fields=["zone", "key", "year"], name="zonefigure_unique")
        ]
        indexes = [models.Index(fields=["key", "year"])]

    def __str__(self) -> str:
        return f"{self.zone.code} {self.key} {self.year} = {self.value}"


class BureauIrisWeight(models.Model):
    """How many voter addresses of a bureau lie in an IRIS: the weights that carry IRIS
    figures over to bureaux."""

    bureau = models.ForeignKey(
        Zone, verbose_name=_("polling station"), on_delete=models.CASCADE, related_name="+"
    )
    iris = models.ForeignKey(
        Zone, verbose_name=_("IRIS"), on_delete=models.CASCADE, related_name="+"
    )
    addresses = models.PositiveIntegerField(_("addresses"))

    class Meta:
        verbose_name = _("polling station / IRIS weight")
        verbose_name_plural = _("polling station / IRIS weights")
        constraints = [
            models.UniqueConstraint(fields=["bureau", "iris"], name="bureauirisweight_unique")
        ]

    def __str__(self) -> str:
        return f"{self.bureau_id} / {self.iris_id}: {self.addresses}"
