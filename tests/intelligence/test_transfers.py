"""Vote transfers by bounded Goodman regression: a known transfer matrix is recovered from
bureau results, with bootstrap intervals; too few bureaux give a clear error."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from territory.intelligence.services.inference import estimate_transfers, goodman
from territory.intelligence.services.transfers import TransferError, study_transfers
from territory.models import BureauResult, Candidacy, CandidateVotes, Election, ElectionRound, Zone

from .conftest import SYNTHETIC_COMMUNE

pytestmark = pytest.mark.django_db

TRUTH = np.array(
    [
        # to: A, C, blank+null, abstention
        [0.85, 0.03, 0.02, 0.10],  # from A
        [0.50, 0.20, 0.10, 0.20],  # from B (eliminated)
        [0.05, 0.85, 0.02, 0.08],  # from C
        [0.05, 0.05, 0.60, 0.30],  # from blank+null
        [0.05, 0.05, 0.00, 0.90],  # from abstention
    ]
)


def test_goodman_recovers_a_known_matrix_within_bounds():
    rng = np.random.default_rng(5)
    x = rng.dirichlet([5, 3, 5, 0.5, 7], 200)
    y = x @ TRUTH + rng.normal(0, 0.005, (200, 4))
    estimate = estimate_transfers(x, np.clip(y, 0, None), np.full(200, 1000.0), samples=60)
    assert np.all(estimate.matrix >= 0) and np.all(estimate.matrix <= 1)
    assert estimate.matrix.sum(axis=1) == pytest.approx(np.ones(5), abs=1e-6)
    assert np.abs(estimate.matrix - TRUTH).mean() < 0.03
    inside = (estimate.low - 0.02 <= TRUTH) & (TRUTH <= estimate.high + 0.02)
    assert inside.mean() > 0.8
    assert np.all(estimate.low <= estimate.matrix + 1e-9)
    assert np.all(estimate.matrix <= estimate.high + 1e-9)


def test_goodman_respects_bounds_where_plain_regression_would_not():
    # Shares that an unconstrained regression would explain with negative transfers.
    x = np.array([[0.9, 0.1], [0.5, 0.5], [0.1, 0.9], [0.7, 0.3]])
    y = np.array([[1.0, 0.0], [0.4, 0.6], [0.0, 1.0], [0.75, 0.25]])
    matrix = goodman(x, y)
    assert np.all(matrix >= 0) and matrix.sum(axis=1) == pytest.approx([1, 1], abs=1e-6)


def make_two_rounds(make_campaign, size: int):
    rng = np.random.default_rng(9)
    commune = Zone.objects.create(type=Zone.Type.COMMUNE, code=SYNTHETIC_COMMUNE, name="S")
    election = Election.objects.create(kind=Election.Kind.MUNICIPAL, name="Mun", year=2026)
    first = ElectionRound.objects.create(election=election, number=1, date=dt.date(2026, 3, 15))
    second = ElectionRound.objects.create(election=election, number=2, date=dt.date(2026, 3, 22))
    cands = {
        (first.pk, k): Candidacy.objects.create(round=first, key=k, last_name=k) for k in "ABC"
    }
    cands |= {
        (second.pk, k): Candidacy.objects.create(round=second, key=k, last_name=k) for k in "AC"
    }
    for number in range(1, size + 1):
        bureau = Zone.objects.create(
            type=Zone.Type.BUREAU, code=f"{SYNTHETIC_COMMUNE}_{number:04d}", name=str(number)
        )
        bureau.parents.add(commune)
        registered = 1000
        x = rng.dirichlet([5, 3, 5, 0.5, 7])
        counts1 = np.round(x * registered).astype(int)
        counts2 = np.round(counts1 @ TRUTH).astype(int)
        for rnd, counts, keys in ((first, counts1, "ABC"), (second, counts2, "AC")):
            candidates = counts[: len(keys)]
            blank, abstention = counts[len(keys)], counts[len(keys) + 1]
            voters = int(candidates.sum() + blank)
            result = BureauResult.objects.create(
                round=rnd, bureau=bureau, registered=int(voters + abstention),
                abstentions=int(abstention), voters=voters, expressed=int(candidates.sum()),
            )  # fmt: skip
            for key, votes in zip(keys, candidates, strict=True):
                CandidateVotes.objects.create(
                    result=result, candidacy=cands[(rnd.pk, key)], votes=int(votes)
                )
    return make_campaign("S", commune_codes=[SYNTHETIC_COMMUNE]), first, second


def test_study_between_two_rounds(make_campaign):
    campaign, first, second = make_two_rounds(make_campaign, 60)
    study = study_transfers(
        actor=None, campaign=campaign, source_round=first, target_round=second, samples=40
    )
    result = study.result
    assert [s["key"] for s in result["sources"]][-2:] == ["blank_null", "abstention"]
    assert {s["label"] for s in result["sources"][:3]} == {"A", "B", "C"}
    order = {s["label"]: i for i, s in enumerate(result["sources"])}
    targets = {t["label"]: i for i, t in enumerate(result["targets"])}
    matrix = np.array(result["matrix"])
    truth_rows = {"A": 0, "B": 1, "C": 2}
    truth_cols = {"A": 0, "C": 1}
    for source, row in truth_rows.items():
        for target, col in truth_cols.items():
            assert matrix[order[source], targets[target]] == pytest.approx(
                TRUTH[row, col], abs=0.06
            ), (source, target)
    assert result["bureaux"] == 60
    assert np.all(np.array(result["low"]) <= matrix + 1e-9)


def test_too_few_bureaux_is_a_clear_error(make_campaign, english):
    campaign, first, second = make_two_rounds(make_campaign, 4)
    with pytest.raises(TransferError, match="Too few polling stations"):
        study_transfers(actor=None, campaign=campaign, source_round=first, target_round=second)
    with pytest.raises(TransferError):
        study_transfers(actor=None, campaign=campaign, source_round=first, target_round=first)
