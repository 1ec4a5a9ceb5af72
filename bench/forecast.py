"""Forecast quality on a generated territory whose results come from a known model plus noise.

300 bureaux (``--size N``) with three static features (INSEE-like indicators and a custom layer's
share of addresses) vote at four past elections. Turnout and the share of a chosen bloc follow
``level(election) + effects . features + bureau effect + noise``; the levels follow a trend (turnout
falling, the bloc rising) as they often do between comparable elections. The backtest trains on
the first three elections with the production code (``territory.intelligence.services.modelling``)
and predicts the fourth.

Printed: the backtest mean absolute error of turnout and share divided by the noise level (the
mean absolute noise of the held-out election; at most 1.2 is the target), the model's error
divided by the naive forecast's (the previous election; at most 0.7), and the mean absolute error
of a transfer matrix estimated by Goodman's bounded regression against the true one (second
round generated from the first by a known matrix plus noise).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from territory.intelligence.services import modelling
from territory.intelligence.services.inference import estimate_transfers

NOISE = 0.02  # standard deviation of the per-bureau noise (2 points)
ELECTIONS = 4


def generate(size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    features = np.column_stack(
        [
            rng.uniform(0.0, 0.6, size),  # social housing share (custom layer)
            rng.uniform(0.1, 0.45, size),  # aged 60 and over
            rng.normal(21_000, 4_000, size),  # median income
        ]
    )
    z = (features - features.mean(axis=0)) / features.std(axis=0)
    turnout_levels = np.array([0.68, 0.655, 0.63, 0.605])
    share_levels = np.array([0.18, 0.20, 0.22, 0.24])
    turnout_structure = z @ np.array([-0.05, 0.04, 0.03]) + rng.normal(0, 0.005, size)
    share_structure = z @ np.array([0.04, -0.02, -0.03]) + rng.normal(0, 0.005, size)
    turnout_noise = rng.normal(0, NOISE, (ELECTIONS, size))
    share_noise = rng.normal(0, NOISE, (ELECTIONS, size))
    registered = rng.integers(600, 1500, size).astype(float)
    return {
        "features": features,
        "registered": np.tile(registered, (ELECTIONS, 1)),
        "turnout": np.clip(turnout_levels[:, None] + turnout_structure + turnout_noise, 0, 1),
        "share": np.clip(share_levels[:, None] + share_structure + share_noise, 0, 1),
        "turnout_noise": turnout_noise,
        "share_noise": share_noise,
    }


def transfer_error(size: int, rng: np.random.Generator) -> float:
    # From: 4 candidates, blank+null, abstention. To: 2 candidates, blank+null, abstention.
    truth = np.array(
        [
            [0.80, 0.05, 0.05, 0.10],
            [0.15, 0.55, 0.10, 0.20],
            [0.45, 0.25, 0.10, 0.20],
            [0.10, 0.40, 0.15, 0.35],
            [0.05, 0.05, 0.60, 0.30],
            [0.04, 0.03, 0.01, 0.92],
        ]
    )
    x = rng.dirichlet([6, 5, 3, 3, 0.6, 8], size)
    y = x @ truth + rng.normal(0, 0.01, (size, truth.shape[1]))
    y = np.clip(y, 0, None)
    y /= y.sum(axis=1, keepdims=True)
    registered = rng.integers(600, 1500, size).astype(float)
    estimate = estimate_transfers(x, y, registered, samples=50)
    return float(np.mean(np.abs(estimate.matrix - truth)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=300, help="number of bureaux")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    data = generate(args.size, rng)
    names = {"static_keys": ["layer", "over_60", "income"], "static_labels": ["", "", ""]}
    ratios = {}
    model_total = naive_total = 0.0
    for metric in ("turnout", "share"):
        print(f"backtest of {metric} over {args.size} bureaux", file=sys.stderr)
        test = modelling.backtest(data[metric], data["registered"], data["features"], **names)
        assert test is not None
        noise_level = float(np.mean(np.abs(data[f"{metric}_noise"][-1])))
        ratios[metric] = test.mae / noise_level
        model_total += test.mae
        naive_total += test.naive_mae
        print(f"  model MAE {test.mae:.4f}, naive {test.naive_mae:.4f}", file=sys.stderr)
    print("transfer matrix", file=sys.stderr)
    transfer_mae = transfer_error(args.size, rng)
    print(
        json.dumps(
            {
                "bench": "forecast",
                "bureaux": args.size,
                "turnout_mae_vs_noise": round(ratios["turnout"], 3),
                "share_mae_vs_noise": round(ratios["share"], 3),
                "vs_naive": round(model_total / naive_total, 3),
                "transfer_mae": round(transfer_mae, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
