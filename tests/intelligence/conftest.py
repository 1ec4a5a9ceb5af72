"""Fixtures of the territory intelligence tests: the sample commune 41998 (from the territory
tests) and a generated territory whose past results follow a known model plus noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from territory.intelligence.synthetic import Scenario, generate_history
from territory.models import ElectionRound, Zone
from tests.territory.conftest import (  # noqa: F401 - fixtures shared with the territory tests
    FIXTURES,
    demo_commune,
    english,
    legislatives,
    round1,
    round2,
    truth,
)

SYNTHETIC_COMMUNE = "41999"


@dataclass
class Territory:
    campaign: object
    bureaux: list[Zone]
    feature: dict[int, float]
    rounds: list[ElectionRound]


def make_territory(make_campaign, *, size: int = 40, scenario: Scenario | None = None) -> Territory:
    commune = Zone.objects.create(type=Zone.Type.COMMUNE, code=SYNTHETIC_COMMUNE, name="Synthèse")
    bureaux = []
    for number in range(1, size + 1):
        bureau = Zone.objects.create(
            type=Zone.Type.BUREAU, code=f"{SYNTHETIC_COMMUNE}_{number:04d}", name=f"Bureau {number}"
        )
        bureau.parents.add(commune)
        bureaux.append(bureau)
    rng = np.random.default_rng(3)
    feature = {b.pk: float(rng.uniform(0, 0.8)) for b in bureaux}
    registered = {b.pk: int(rng.integers(500, 1400)) for b in bureaux}
    rounds = generate_history(
        bureaux, feature, scenario=scenario or Scenario(), registered=registered
    )
    campaign = make_campaign("Synthèse 2026", commune_codes=[SYNTHETIC_COMMUNE])
    return Territory(campaign, bureaux, feature, rounds)


@pytest.fixture
def territory(db, make_campaign) -> Territory:
    return make_territory(make_campaign)
