"""Territory reference data. Elections and their rounds are rows, never code."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Election(models.Model):
    class Kind(models.TextChoices):
        MUNICIPAL = "municipales", _("Municipal")
        LEGISLATIVE = "legislatives", _("Legislative")
        PRESIDENTIAL = "presidentielle", _("Presidential")
        EUROPEAN = "europeennes", _("European")
        REGIONAL = "regionales", _("Regional")
        DEPARTMENTAL = "departementales", _("Departmental")
        SENATORIAL = "senatoriales", _("Senatorial")
        REFERENDUM = "referendum", _("Referendum")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year"))
    country = models.CharField(_("country"), max_length=2, default="FR")

    class Meta:
        verbose_name = _("election")
        verbose_name_plural = _("elections")
        ordering = ["-year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "kind", "year", "name"], name="election_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ElectionRound(models.Model):
    election = models.ForeignKey(
        Election, verbose_name=_("election"), on_delete=models.CASCADE, related_name="rounds"
    )
    number = models.PositiveSmallIntegerField(_("round"))
    date = models.DateField(_("date"))

    class Meta:
        verbose_name = _("election round")
        verbose_name_plural = _("election rounds")
        ordering = ["election", "number"]
        constraints = [
            models.UniqueConstraint(fields=["election", "number"], name="electionround_unique")
        ]

    def __str__(self) -> str:
        return f"{self.election} – {self.number}"
