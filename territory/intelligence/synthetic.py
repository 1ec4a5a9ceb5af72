"""Past results generated from a known model plus noise, for the demo's fictional commune and the
tests: turnout and the shares of two lists per bureau follow a level per election plus a bureau
effect (driven by a static feature, e.g. a data layer's share) plus noise. Never used on real data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from territory.models import BureauResult, Candidacy, CandidateVotes, Election, ElectionRound, Zone


@dataclass(frozen=True)
class Scenario:
    years: tuple[int, ...] = (2001, 2008, 2014, 2020)
    turnout_levels: tuple[float, ...] = (0.69, 0.66, 0.63, 0.60)
    share_levels: tuple[float, ...] = (0.38, 0.40, 0.42, 0.44)
    noise: float = 0.015
    kind: str = Election.Kind.MUNICIPAL
    seed: int = 7


def generate_history(
    bureaux: Sequence[Zone],
    feature: dict[int, float],
    *,
    scenario: Scenario = Scenario(),
    registered: dict[int, int] | None = None,
    name: str = "Municipales {year} (démo)",
) -> list[ElectionRound]:
    """One first round per year with two lists, "LISTE A" (nuance DVG) and "LISTE B" (DVD).
    Turnout falls and A's share rises with `feature` (0..1). Idempotent per election name."""
    rng = np.random.default_rng(scenario.seed)
    rounds = []
    for index, year in enumerate(scenario.years):
        election, _created = Election.objects.get_or_create(
            country="FR", kind=scenario.kind, year=year, name=name.format(year=year)
        )
        election_round, created = ElectionRound.objects.get_or_create(
            election=election, number=1, defaults={"date": dt.date(year, 3, 15)}
        )
        rounds.append(election_round)
        if not created and election_round.results.exists():
            continue
        lists = {
            key: Candidacy.objects.get_or_create(
                round=election_round, key=key,
                defaults={"list_label": key, "last_name": key, "nuance": nuance},
            )[0]
            for key, nuance in (("LISTE A", "DVG"), ("LISTE B", "DVD"))
        }  # fmt: skip
        for bureau in bureaux:
            x = feature.get(bureau.pk, 0.0)
            count = (registered or {}).get(bureau.pk, 900)
            turnout = scenario.turnout_levels[index] - 0.15 * x + rng.normal(0, scenario.noise)
            share = scenario.share_levels[index] + 0.25 * x + rng.normal(0, scenario.noise)
            turnout, share = float(np.clip(turnout, 0.05, 0.95)), float(np.clip(share, 0.02, 0.98))
            voters = round(count * turnout)
            expressed = round(voters * 0.97)
            votes_a = round(expressed * share)
            result = BureauResult.objects.create(
                round=election_round, bureau=bureau, registered=count,
                abstentions=count - voters, voters=voters, expressed=expressed,
                blank_ballots=voters - expressed, null_ballots=0, source="synthetic",
            )  # fmt: skip
            CandidateVotes.objects.create(result=result, candidacy=lists["LISTE A"], votes=votes_a)
            CandidateVotes.objects.create(
                result=result, candidacy=lists["LISTE B"], votes=expressed - votes_a
            )
    return rounds
