"""Forecasts per bureau de vote for an upcoming election, with their backtest and the
"votes to win" ranking. Reads public results, INSEE figures, the campaign's layers and its
aggregated field results per bureau; writes one `BureauForecast` per bureau, never anything
per person.

Comparable rounds: the past rounds of the same kind of election and the same round number with
results in the campaign's bureaux, oldest first; with fewer than two, every round with results.
Votes to win = registered x (1 - forecast turnout) x reachable share [x forecast share when
`lean_weighted`]: abstainers we may reach, optionally only those leaning our way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from territory.indicators import available_insee, insee_by_bureau
from territory.intelligence.models import BureauForecast, Forecast, Layer, LayerZoneFigure
from territory.intelligence.services import modelling
from territory.models import BureauResult, CandidateVotes, ElectionRound
from territory.selectors import campaign_bureaux, contact_counts_by_bureau


class ForecastError(ValueError):
    """The forecast cannot be computed (nothing was changed)."""


@dataclass
class History:
    bureau_ids: list[int]
    rounds: list[ElectionRound]
    comparable: bool
    registered: np.ndarray  # rounds x bureaux
    turnout: np.ndarray
    share: np.ndarray | None  # None: no share chosen


def comparable_rounds(
    forecast: Forecast, bureau_ids: list[int]
) -> tuple[list[ElectionRound], bool]:
    with_results = ElectionRound.objects.filter(
        pk__in=BureauResult.objects.filter(bureau_id__in=bureau_ids).values("round_id")
    ).select_related("election")
    chronological = sorted(with_results, key=lambda r: (r.date, r.number))
    same = [
        r
        for r in chronological
        if r.election.kind == forecast.election_kind and r.number == forecast.round_number
    ]
    if len(same) >= 2:
        return same, True
    return chronological, False


def chosen(forecast: Forecast, nuance: str | None, last_name: str, key: str) -> bool:
    names = {n.strip().casefold() for n in forecast.candidate_names if n.strip()}
    return bool(
        (nuance and nuance in set(forecast.nuances))
        or (names and (last_name.casefold() in names or key.casefold() in names))
    )


def load_history(forecast: Forecast, bureau_ids: list[int]) -> History:
    rounds, comparable = comparable_rounds(forecast, bureau_ids)
    position = {b: i for i, b in enumerate(bureau_ids)}
    shape = (len(rounds), len(bureau_ids))
    registered = np.full(shape, np.nan)
    voters = np.full(shape, np.nan)
    expressed = np.full(shape, np.nan)
    wanted = np.zeros(shape)
    round_index = {r.pk: i for i, r in enumerate(rounds)}
    results = BureauResult.objects.filter(round__in=rounds, bureau_id__in=bureau_ids)
    for result_round, bureau, reg, vot, exp in results.values_list(
        "round_id", "bureau_id", "registered", "voters", "expressed"
    ):
        i, j = round_index[result_round], position[bureau]
        registered[i, j], voters[i, j], expressed[i, j] = reg, vot, exp
    use_share = bool(forecast.nuances or forecast.candidate_names)
    if use_share:
        votes = CandidateVotes.objects.filter(
            result__round__in=rounds, result__bureau_id__in=bureau_ids
        ).values_list(
            "result__round_id",
            "result__bureau_id",
            "candidacy__nuance",
            "candidacy__last_name",
            "candidacy__key",
            "votes",
        )
        for result_round, bureau, nuance, last_name, key, count in votes:
            if chosen(forecast, nuance, last_name or "", key or ""):
                wanted[round_index[result_round], position[bureau]] += count
    with np.errstate(all="ignore"):
        turnout = np.where(registered > 0, voters / registered, np.nan)
        share = np.where(expressed > 0, wanted / expressed, np.nan) if use_share else None
    if share is not None:
        # A round where the chosen candidates or nuances stood nowhere says nothing about them.
        absent = np.nansum(wanted, axis=1) == 0
        share[absent, :] = np.nan
        keep = ~absent
        if keep.sum() == 0:
            share = None
    return History(bureau_ids, rounds, comparable, registered, turnout, share)


def statics_for(
    forecast: Forecast, bureau_ids: list[int]
) -> tuple[np.ndarray, list[str], list[str]]:
    """Static features per bureau: INSEE indicators, layers' shares, our contacts' density."""
    columns: list[list[float]] = []
    keys: list[str] = []
    labels: list[str] = []
    if forecast.use_insee:
        for spec in available_insee(bureau_ids):
            values = insee_by_bureau(spec.key, bureau_ids)
            columns.append([_or_nan(values.get(b)) for b in bureau_ids])
            keys.append(f"insee:{spec.key}")
            labels.append(str(spec.label))
    for layer in forecast.layers.all():
        figures = dict(
            LayerZoneFigure.objects.filter(layer=layer, zone_id__in=bureau_ids).values_list(
                "zone_id", "addresses"
            )
        )
        totals = dict(
            LayerZoneFigure.objects.filter(layer=layer, zone_id__in=bureau_ids).values_list(
                "zone_id", "zone_addresses"
            )
        )
        columns.append(
            [figures.get(b, 0) / totals[b] if totals.get(b) else 0.0 for b in bureau_ids]
        )
        keys.append(f"layer:{layer.pk}")
        labels.append(_("%(layer)s (share of addresses)") % {"layer": layer.name})
    if forecast.use_field_results:
        contacts = contact_counts_by_bureau(forecast.campaign, bureau_ids)
        if contacts is not None:
            columns.append([float(contacts[b].total) if b in contacts else 0.0 for b in bureau_ids])
            keys.append("field:contacts")
            labels.append(_("our contacts in the polling station (field results)"))
    if not columns:
        return np.zeros((len(bureau_ids), 0)), keys, labels
    return np.array(columns, dtype=float).T, keys, labels


def _metric_summary(
    prediction: modelling.Prediction, test: modelling.Backtest | None
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "level": prediction.level,
        "trained": prediction.trained,
        "interval": None if np.isnan(prediction.residual_sd) else Z(prediction.residual_sd),
        "effects": [
            {"key": e.key, "points": round(e.effect * 100, 2)} for e in prediction.effects[:8]
        ],
        "backtest": None,
    }
    if test is not None:
        summary["backtest"] = {
            "mae": test.mae,
            "naive_mae": test.naive_mae,
            "better_than_naive": test.better_than_naive,
        }
    return summary


def Z(sd: float) -> float:
    return float(modelling.Z90 * sd)


@transaction.atomic
def compute_forecast(forecast: Forecast, *, actor: Any) -> Forecast:
    """(Re)compute a forecast: its bureaux rows, backtest, effects and ranking."""
    if not 0 < forecast.reachable_share <= 1:
        raise ForecastError(_("The reachable share must be between 0 and 100 %."))
    bureau_ids = list(
        campaign_bureaux(forecast.campaign).order_by("code").values_list("pk", flat=True)
    )
    if not bureau_ids:
        raise ForecastError(_("The campaign's territory has no polling station."))
    history = load_history(forecast, bureau_ids)
    if not history.rounds:
        raise ForecastError(_("No past results in the campaign's polling stations."))
    statics, keys, labels = statics_for(forecast, bureau_ids)
    names: dict[str, Any] = {"static_keys": keys, "static_labels": labels}
    weights = np.nan_to_num(history.registered, nan=0.0)
    turnout_test = modelling.backtest(history.turnout, weights, statics, **names)
    turnout = modelling.predict_next(
        history.turnout, weights, statics, **names,
        level=forecast.expected_turnout, residual_sd=modelling.backtest_sd(turnout_test),
    )  # fmt: skip
    share_test = share = None
    if history.share is not None:
        rows = ~np.all(np.isnan(history.share), axis=1)
        series, share_weights = history.share[rows], weights[rows]
        share_test = modelling.backtest(series, share_weights, statics, **names)
        share = modelling.predict_next(
            series, share_weights, statics, **names, residual_sd=modelling.backtest_sd(share_test)
        )
    last_registered = history.registered[-1]
    rows_out = []
    for j, bureau_id in enumerate(bureau_ids):
        registered = last_registered[j]
        t = turnout.values[j]
        if np.isnan(registered) or np.isnan(t):
            continue
        s = share.values[j] if share is not None else np.nan
        lean = s if forecast.lean_weighted and not np.isnan(s) else 1.0
        votes = float(registered) * (1 - float(t)) * forecast.reachable_share * float(lean)
        rows_out.append(
            BureauForecast(
                forecast=forecast,
                bureau_id=bureau_id,
                registered=int(registered),
                turnout=float(t),
                turnout_low=float(turnout.low[j]),
                turnout_high=float(turnout.high[j]),
                naive_turnout=_num(history.turnout[-1][j]),
                share=_num(s),
                share_low=_num(share.low[j]) if share is not None else None,
                share_high=_num(share.high[j]) if share is not None else None,
                naive_share=_num(_last_known(history.share, j)) if share is not None else None,
                backtest_turnout_error=_num(turnout_test.errors[j]) if turnout_test else None,
                backtest_share_error=_num(share_test.errors[j]) if share_test else None,
                votes_to_win=round(votes, 1),
                rank=0,
            )
        )
    rows_out.sort(key=lambda r: (-r.votes_to_win, r.bureau_id))
    for rank, row in enumerate(rows_out, start=1):
        row.rank = rank
    forecast.bureaux.all().delete()
    BureauForecast.objects.bulk_create(rows_out)
    # Stored as codes, worded in the reader's language by territory.intelligence.presentation.
    notes = [] if history.comparable else [{"code": "not_comparable"}]
    warnings = []
    for metric, test in (("turnout", turnout_test), ("share", share_test)):
        if metric == "share" and share is None:
            continue
        if test is None:
            warnings.append({"code": "short_history", "metric": metric})
        elif not test.better_than_naive:
            warnings.append({"code": "no_better_than_naive", "metric": metric})
    forecast.summary = {
        "rounds": [r.label for r in history.rounds],
        "comparable": history.comparable,
        "bureaux": len(rows_out),
        "turnout": _metric_summary(turnout, turnout_test),
        "share": _metric_summary(share, share_test) if share is not None else None,
        "notes": notes,
        "warnings": warnings,
        "votes_to_win": sum(r.votes_to_win for r in rows_out),
    }
    forecast.computed_at = timezone.now()
    forecast.save()
    record_event(
        "intelligence.forecast_computed",
        actor=actor,
        campaign=forecast.campaign,
        target=forecast,
        data={"bureaux": len(rows_out)},
    )
    return forecast


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _num(value: Any) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def _last_known(series: np.ndarray | None, j: int) -> float:
    if series is None:
        return float("nan")
    column = series[:, j]
    known = column[~np.isnan(column)]
    return float(known[-1]) if len(known) else float("nan")


def create_forecast(*, actor: Any, campaign: Any, layers: list[Layer] | None = None,
                    **fields: Any) -> Forecast:  # fmt: skip
    with transaction.atomic():
        forecast = Forecast.objects.create(campaign=campaign, created_by=_user(actor), **fields)
        if layers:
            forecast.layers.set(layers)
        return compute_forecast(forecast, actor=actor)


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None
