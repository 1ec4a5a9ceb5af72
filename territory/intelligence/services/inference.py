"""Vote transfers by ecological inference: Goodman's regression with bounds.

Each bureau i gives, over its registered voters, the shares x[i, j] of the "from" categories
(candidates of the first round, abstention, blank and null) and y[i, k] of the "to" categories.
Assuming every bureau shares one transfer matrix B (B[j, k]: share of category j's voters who
chose k), y[i] = x[i] @ B. We find B by least squares, weighted by registered voters, under the
bounds 0 <= B[j, k] <= 1 and each row summing to 1 (a heavily weighted equation per row), with
scipy's bounded least squares. Uncertainty: a bootstrap over bureaux (resampled with
replacement), the 5th and 95th percentiles of each cell giving a 90 % interval.

The result concerns groups of voters in aggregate, never a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import lsq_linear

ROW_SUM_WEIGHT = 100.0


@dataclass
class TransferEstimate:
    matrix: np.ndarray  # from x to, rows sum to 1
    low: np.ndarray
    high: np.ndarray
    bureaux: int
    samples: int


def goodman(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The bounded transfer matrix (J x K) from shares x (n x J) and y (n x K)."""
    n, j_count = x.shape
    k_count = y.shape[1]
    w = np.sqrt(weights / weights.mean()) if weights is not None else np.ones(n)
    # Unknowns: vec(B) row-major, B[j, k] at j * K + k. For each bureau and k:
    # sum_j x[i, j] B[j, k] = y[i, k].
    design = np.zeros((n * k_count + j_count, j_count * k_count))
    target = np.zeros(n * k_count + j_count)
    for k in range(k_count):
        rows = slice(k * n, (k + 1) * n)
        for j in range(j_count):
            design[rows, j * k_count + k] = x[:, j] * w
        target[rows] = y[:, k] * w
    scale = ROW_SUM_WEIGHT * np.sqrt(max(n, 1))
    for j in range(j_count):
        design[n * k_count + j, j * k_count : (j + 1) * k_count] = scale
        target[n * k_count + j] = scale
    solution = lsq_linear(design, target, bounds=(0.0, 1.0), method="bvls")
    matrix = solution.x.reshape(j_count, k_count)
    sums = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, sums, out=np.full_like(matrix, 1.0 / k_count), where=sums > 0)


def estimate_transfers(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    samples: int = 200,
    seed: int = 0,
) -> TransferEstimate:
    if x.shape[0] != y.shape[0]:
        raise ValueError("x and y must describe the same bureaux")
    if x.shape[0] < x.shape[1] + 1:
        raise ValueError("too few bureaux for this many categories")
    matrix = goodman(x, y, weights)
    rng = np.random.default_rng(seed)
    draws = np.empty((samples, *matrix.shape))
    n = x.shape[0]
    for s in range(samples):
        pick = rng.integers(0, n, n)
        draws[s] = goodman(x[pick], y[pick], None if weights is None else weights[pick])
    low = np.percentile(draws, 5, axis=0)
    high = np.percentile(draws, 95, axis=0)
    return TransferEstimate(matrix, low, high, n, samples)
