"""Elections, their rounds and the candidacies of each round. Rows, never code."""

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

    @property
    def label(self) -> str:
        return _("%(election)s, round %(number)s") % {
            "election": self.election.name,
            "number": self.number,
        }


class Candidacy(models.Model):
    """A candidate or a list standing in one round, as the results file names them."""

    round = models.ForeignKey(
        ElectionRound,
        verbose_name=_("round"),
        on_delete=models.CASCADE,
        related_name="candidacies",
    )
    # Identity within the round: the panel number when the file has one, else the name.
    key = models.CharField(_("key"), max_length=250)
    panel_number = models.PositiveIntegerField(_("panel number"), null=True, blank=True)
    last_name = models.CharField(_("last name"), max_length=200, blank=True)
    first_name = models.CharField(_("first name"), max_length=200, blank=True)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    # NULL when the file gives none (most small communes' lists have no nuance).
    nuance = models.CharField(_("political label (nuance)"), max_length=20, null=True, blank=True)
    list_label = models.CharField(_("list"), max_length=300, null=True, blank=True)

    class Meta:
        verbose_name = _("candidacy")
        verbose_name_plural = _("candidacies")
        ordering = ["round", "panel_number", "last_name"]
        constraints = [models.UniqueConstraint(fields=["round", "key"], name="candidacy_key")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        if self.list_label and not name:
            return self.list_label
        return name or self.list_label or self.key
