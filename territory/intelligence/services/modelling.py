"""The numbers behind forecasts, without the database: arrays in, predictions out.

A series is one value per (past round, bureau), e.g. turnout, oldest round first, NaN where a
bureau has no result. Each round has a level (the registered-weighted mean over bureaux) and each
bureau a deviation from it. The model predicts the next deviation of every bureau from:

- its deviation at the last comparable round, and its mean deviation over all earlier ones;
- static features of the bureau (INSEE indicators, custom layers, aggregated field results);

trained on every past round that has an earlier one (scikit-learn: standardised features, ridge
regression with the penalty chosen by cross-validation). The level of the next round is the linear
trend of past levels when there are at least three, else the last level; the campaign may set it.

The backtest holds out the last past round, trains on the ones before, and compares the error per
bureau with the naive forecast (the last comparable result). Intervals are +/- 1.645 times the
backtest error's standard deviation (90 %), else the training residuals'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

Z90 = 1.645
MAX_LEVEL_MOVE = 0.10  # a trend never moves the level more than 10 points from the last one


@dataclass
class Effect:
    key: str
    label: str
    unit_step: float  # one standard deviation of the feature, in its own unit
    effect: float  # change of the forecast (0..1 scale) for one standard deviation more


@dataclass
class Prediction:
    values: np.ndarray  # per bureau, NaN when it cannot be predicted
    low: np.ndarray
    high: np.ndarray
    level: float
    residual_sd: float
    effects: list[Effect] = field(default_factory=list)
    trained: bool = False  # False: too little history, the forecast is the last result


@dataclass
class Backtest:
    errors: np.ndarray  # |model - actual| per bureau (NaN where unknown)
    naive_errors: np.ndarray
    mae: float
    naive_mae: float

    @property
    def better_than_naive(self) -> bool:
        return bool(self.mae < self.naive_mae)


def round_levels(series: np.ndarray, weights: np.ndarray) -> np.ndarray:
    levels = np.full(series.shape[0], np.nan)
    for r in range(series.shape[0]):
        known = ~np.isnan(series[r]) & ~np.isnan(weights[r])
        if known.any() and weights[r][known].sum() > 0:
            levels[r] = float(np.average(series[r][known], weights=weights[r][known]))
    return levels


def next_level(levels: np.ndarray) -> float:
    known = levels[~np.isnan(levels)]
    if len(known) == 0:
        return float("nan")
    last = float(known[-1])
    if len(known) < 3:
        return last
    slope, intercept = np.polyfit(np.arange(len(known)), known, 1)
    trend = float(slope * len(known) + intercept)
    return float(np.clip(trend, last - MAX_LEVEL_MOVE, last + MAX_LEVEL_MOVE))


def _features(deviations: np.ndarray, r: int, statics: np.ndarray) -> np.ndarray:
    """Features to predict round r's deviations from the rounds before it."""
    previous = deviations[:r]
    last = previous[-1]
    with np.errstate(all="ignore"):
        mean = np.nanmean(previous, axis=0) if r > 1 else last
    return np.column_stack([last, mean, statics])


def _clean_statics(statics: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Impute missing values by the column mean; drop columns without data or variation."""
    if statics.size == 0:
        return statics.reshape(statics.shape[0], 0), []
    keep = []
    out = statics.astype(float).copy()
    for j in range(out.shape[1]):
        column = out[:, j]
        known = ~np.isnan(column)
        if known.sum() < 2 or np.nanstd(column) == 0:
            continue
        column[~known] = np.nanmean(column)
        keep.append(j)
    return out[:, keep], keep


def predict_next(
    series: np.ndarray,
    weights: np.ndarray,
    statics: np.ndarray,
    *,
    static_keys: list[str],
    static_labels: list[str],
    level: float | None = None,
    residual_sd: float | None = None,
) -> Prediction:
    """Forecast the next round's value per bureau from `series` (rounds x bureaux)."""
    rounds, bureaux = series.shape
    levels = round_levels(series, weights)
    target_level = next_level(levels) if level is None else level
    deviations = series - levels[:, None]
    clean, kept = _clean_statics(statics if statics.size else np.zeros((bureaux, 0)))
    keys = ["last", "mean", *[static_keys[j] for j in kept]]
    labels = ["", "", *[static_labels[j] for j in kept]]
    rows_x, rows_y = [], []
    for r in range(1, rounds):
        x = _features(deviations, r, clean)
        y = deviations[r]
        ok = ~np.isnan(y) & ~np.isnan(x).any(axis=1)
        rows_x.append(x[ok])
        rows_y.append(y[ok])
    x_train = np.vstack(rows_x) if rows_x else np.zeros((0, len(keys)))
    y_train = np.concatenate(rows_y) if rows_y else np.zeros(0)
    last = deviations[-1]
    if len(y_train) < len(keys) + 2 and len(keys) > 2:
        # Too few rows for every feature: keep the history alone.
        return predict_next(
            series, weights, np.zeros((bureaux, 0)), static_keys=[], static_labels=[],
            level=level, residual_sd=residual_sd,
        )  # fmt: skip
    if len(y_train) < 10:
        values = np.clip(target_level + last, 0, 1)
        sd = residual_sd if residual_sd is not None else float("nan")
        return Prediction(values, values - Z90 * sd, values + Z90 * sd, target_level, sd)
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    model.fit(x_train, y_train)
    fitted = model.predict(x_train)
    dof = max(1, len(y_train) - len(keys) - 1)
    train_sd = float(np.sqrt(np.sum((y_train - fitted) ** 2) / dof))
    sd = residual_sd if residual_sd is not None else train_sd
    x_next = _features(deviations, rounds, clean)
    predictable = ~np.isnan(x_next).any(axis=1)
    values = np.full(bureaux, np.nan)
    if predictable.any():
        values[predictable] = target_level + model.predict(x_next[predictable])
    values = np.clip(values, 0, 1)
    scaler, ridge = model.steps[0][1], model.steps[1][1]
    effects = [
        Effect(key=k, label=lab, unit_step=float(s), effect=float(c))
        for k, lab, s, c in zip(keys, labels, scaler.scale_, ridge.coef_, strict=True)
    ]
    effects.sort(key=lambda e: -abs(e.effect))
    return Prediction(
        values, np.clip(values - Z90 * sd, 0, 1), np.clip(values + Z90 * sd, 0, 1),
        target_level, sd, effects, trained=True,
    )  # fmt: skip


def backtest(
    series: np.ndarray,
    weights: np.ndarray,
    statics: np.ndarray,
    *,
    static_keys: list[str],
    static_labels: list[str],
) -> Backtest | None:
    """Hold out the last round: the model trained on the earlier ones against the naive forecast
    (the round before it). None with fewer than three rounds (nothing to train on)."""
    if series.shape[0] < 3:
        return None
    held_out = series[-1]
    prediction = predict_next(
        series[:-1], weights[:-1], statics, static_keys=static_keys, static_labels=static_labels
    )
    naive = series[-2]
    errors = np.abs(prediction.values - held_out)
    naive_errors = np.abs(naive - held_out)
    both = ~np.isnan(errors) & ~np.isnan(naive_errors)
    if not both.any():
        return None
    return Backtest(
        errors=np.where(both, errors, np.nan),
        naive_errors=np.where(both, naive_errors, np.nan),
        mae=float(np.mean(errors[both])),
        naive_mae=float(np.mean(naive_errors[both])),
    )


def backtest_sd(result: Backtest | None) -> float | None:
    if result is None:
        return None
    known = result.errors[~np.isnan(result.errors)]
    return float(np.sqrt(np.mean(known**2))) if len(known) else None
