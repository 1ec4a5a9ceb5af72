"""Results of one round in one bureau de vote, and the votes of each candidacy there."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from territory.models.elections import Candidacy, ElectionRound
from territory.models.zones import Zone


class BureauResult(models.Model):
    round = models.ForeignKey(
        ElectionRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="results"
    )
    bureau = models.ForeignKey(
        Zone,
        verbose_name=_("polling station"),
        on_delete=models.CASCADE,
        related_name="results",
        limit_choices_to={"type": Zone.Type.BUREAU},
    )
    registered = models.PositiveIntegerField(_("registered voters"))
    abstentions = models.PositiveIntegerField(_("abstentions"))
    voters = models.PositiveIntegerField(_("voters"))
    # NULL when the file does not give them (old files count blank and null ballots together).
    blank_ballots = models.PositiveIntegerField(_("blank ballots"), null=True, blank=True)
    null_ballots = models.PositiveIntegerField(_("null ballots"), null=True, blank=True)
    expressed = models.PositiveIntegerField(_("expressed votes"))
    source = models.CharField(_("source file"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("polling station result")
        verbose_name_plural = _("polling station results")
        ordering = ["round", "bureau__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "bureau"], name="bureauresult_unique")
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.bureau.code}"

    @property
    def abstention_rate(self) -> float | None:
        return self.abstentions / self.registered if self.registered else None

    @property
    def turnout(self) -> float | None:
        return self.voters / self.registered if self.registered else None


class CandidateVotes(models.Model):
    result = models.ForeignKey(
        BureauResult, verbose_name=_("result"), on_delete=models.CASCADE, related_name="votes"
    )
    candidacy = models.ForeignKey(
        Candidacy, verbose_name=_("candidacy"), on_delete=models.CASCADE, related_name="votes"
    )
    votes = models.PositiveIntegerField(_("votes"))

    class Meta:
        verbose_name = _("votes")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(fields=["result", "candidacy"], name="candidatevotes_unique")
        ]

    def __str__(self) -> str:
        return f"{self.candidacy}: {self.votes}"
