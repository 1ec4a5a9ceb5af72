"""Indicators per bureau de vote for the map and the bureau card, and their colour classes.

Kinds:
- abstention, turnout: abstentions (voters) / registered, for one round;
- candidate: a candidacy's votes / expressed votes, for one round;
- nuance: votes of every candidacy of that nuance / expressed votes, for one round;
- turnout_change: turnout of round B minus turnout of round A, in points (diverging colours);
- insee: an INSEE indicator carried from IRIS to bureaux by address weights (below);
- score: the targeting score (territory.targeting).

IRIS to bureaux: each IRIS count is shared among bureaux in proportion to the voter addresses
of that IRIS lying in each bureau (BureauIrisWeight); rates are then recomputed from the shared
counts. Median income (not additive) is the address-weighted mean of the IRIS medians.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from territory.models import BureauIrisWeight, BureauResult, CandidateVotes, ZoneFigure


@dataclass(frozen=True)
class InseeIndicator:
    key: str
    label: Any
    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()  # empty: a count (or a mean when `mean`)
    mean: bool = False  # address-weighted mean of IRIS values (medians, rates published as is)
    scale: float = 1.0


INSEE_INDICATORS = [
    InseeIndicator("population", _("Population"), ("pop",)),
    InseeIndicator("under_30", _("Aged under 30"), ("pop0014", "pop1529"), ("pop",)),
    InseeIndicator("over_60", _("Aged 60 and over"), ("pop6074", "pop75p"), ("pop",)),
    InseeIndicator("managers", _("Managers, professionals (CSP 3)"), ("pop15p_cs3",), ("pop15p",)),
    InseeIndicator("intermediate", _("Intermediate occupations (CSP 4)"), ("pop15p_cs4",),
                   ("pop15p",)),
    InseeIndicator("employees", _("Employees (CSP 5)"), ("pop15p_cs5",), ("pop15p",)),
    InseeIndicator("workers", _("Manual workers (CSP 6)"), ("pop15p_cs6",), ("pop15p",)),
    InseeIndicator("retired", _("Retired (CSP 7)"), ("pop15p_cs7",), ("pop15p",)),
    InseeIndicator("social_housing", _("Social housing tenants (HLM)"), ("rp_lochlmv",), ("rp",)),
    InseeIndicator("owners", _("Home owners"), ("rp_prop",), ("rp",)),
    InseeIndicator("unemployment", _("Unemployment rate (15-64)"), ("chom1564",), ("act1564",)),
    InseeIndicator("median_income", _("Median disposable income (€)"), ("disp_med",), mean=True),
    InseeIndicator("poverty", _("Poverty rate"), ("disp_tp60",), mean=True, scale=0.01),
]  # fmt: skip
INSEE_BY_KEY = {i.key: i for i in INSEE_INDICATORS}


@dataclass(frozen=True)
class Indicator:
    kind: str
    round_id: int | None = None
    other_round_id: int | None = None  # turnout_change: the earlier round
    candidacy_id: int | None = None
    nuance: str | None = None
    insee_key: str | None = None

    @property
    def is_rate(self) -> bool:
        if self.kind == "insee":
            spec = INSEE_BY_KEY.get(self.insee_key or "")
            return bool(spec and (spec.denominator or spec.scale != 1.0))
        return self.kind in {"abstention", "turnout", "candidate", "nuance"}

    @property
    def is_diverging(self) -> bool:
        return self.kind == "turnout_change"


def _results(round_id: int | None, bureau_ids: Sequence[int]) -> dict[int, BureauResult]:
    if round_id is None:
        return {}
    return {
        r.bureau_id: r
        for r in BureauResult.objects.filter(round_id=round_id, bureau_id__in=bureau_ids)
    }


def values_by_bureau(indicator: Indicator, bureau_ids: Sequence[int]) -> dict[int, float | None]:
    """The indicator's value per bureau (None: no data for that bureau)."""
    kind = indicator.kind
    if kind in {"abstention", "turnout"}:
        results = _results(indicator.round_id, bureau_ids)
        attr = "abstention_rate" if kind == "abstention" else "turnout"
        return {b: getattr(results[b], attr) if b in results else None for b in bureau_ids}
    if kind in {"candidate", "nuance"}:
        results = _results(indicator.round_id, bureau_ids)
        votes = CandidateVotes.objects.filter(result__in=list(results.values()))
        if kind == "candidate":
            votes = votes.filter(candidacy_id=indicator.candidacy_id or 0)
        else:
            votes = votes.filter(candidacy__nuance=indicator.nuance)
        totals = dict(
            votes.values("result__bureau_id")
            .annotate(n=Sum("votes"))
            .values_list("result__bureau_id", "n")
        )
        return {
            b: (totals.get(b, 0) / results[b].expressed if results[b].expressed else None)
            if b in results
            else None
            for b in bureau_ids
        }
    if kind == "turnout_change":
        before = _results(indicator.other_round_id, bureau_ids)
        after = _results(indicator.round_id, bureau_ids)
        return {
            b: (after[b].turnout - before[b].turnout)  # type: ignore[operator]
            if b in before
            and b in after
            and after[b].turnout is not None
            and before[b].turnout is not None
            else None
            for b in bureau_ids
        }
    if kind == "insee":
        return insee_by_bureau(indicator.insee_key or "", bureau_ids)
    raise ValueError(f"unknown indicator kind {kind!r}")


def _latest_figures(keys: set[str], iris_ids: set[int]) -> dict[tuple[int, str], float]:
    """The most recent vintage of each figure per IRIS."""
    found: dict[tuple[int, str], tuple[int, float]] = {}
    for zone_id, key, year, value in ZoneFigure.objects.filter(
        zone_id__in=iris_ids, key__in=keys
    ).values_list("zone_id", "key", "year", "value"):
        if (zone_id, key) not in found or year > found[(zone_id, key)][0]:
            found[(zone_id, key)] = (year, value)
    return {k: v for k, (_y, v) in found.items()}


def insee_by_bureau(key: str, bureau_ids: Sequence[int]) -> dict[int, float | None]:
    spec = INSEE_BY_KEY.get(key)
    if spec is None:
        raise ValueError(f"unknown INSEE indicator {key!r}")
    weights = list(
        BureauIrisWeight.objects.filter(bureau_id__in=bureau_ids).values_list(
            "bureau_id", "iris_id", "addresses"
        )
    )
    iris_ids = {i for _b, i, _n in weights}
    # An IRIS's addresses across all bureaux (also bureaux outside this selection).
    iris_totals = dict(
        BureauIrisWeight.objects.filter(iris_id__in=iris_ids)
        .values("iris_id")
        .annotate(n=Sum("addresses"))
        .values_list("iris_id", "n")
    )
    figures = _latest_figures(set(spec.numerator) | set(spec.denominator), iris_ids)
    numerator: dict[int, float] = defaultdict(float)
    denominator: dict[int, float] = defaultdict(float)
    has_data: set[int] = set()
    for bureau_id, iris_id, addresses in weights:
        if spec.mean:
            value = figures.get((iris_id, spec.numerator[0]))
            if value is not None:
                numerator[bureau_id] += value * addresses
                denominator[bureau_id] += addresses
                has_data.add(bureau_id)
            continue
        share = addresses / iris_totals[iris_id] if iris_totals.get(iris_id) else 0.0
        parts = [figures.get((iris_id, k)) for k in spec.numerator]
        bases = [figures.get((iris_id, k)) for k in spec.denominator]
        if any(p is None for p in parts) or any(b is None for b in bases):
            continue
        numerator[bureau_id] += share * sum(p or 0.0 for p in parts)
        denominator[bureau_id] += share * sum(b or 0.0 for b in bases)
        has_data.add(bureau_id)
    out: dict[int, float | None] = {}
    for b in bureau_ids:
        if b not in has_data:
            out[b] = None
        elif spec.mean:
            out[b] = numerator[b] / denominator[b] * spec.scale if denominator[b] else None
        elif spec.denominator:
            out[b] = numerator[b] / denominator[b] if denominator[b] else None
        else:
            out[b] = numerator[b]
    return out


def available_insee(bureau_ids: Sequence[int]) -> list[InseeIndicator]:
    """INSEE indicators that have data for at least one of these bureaux."""
    iris_ids = set(
        BureauIrisWeight.objects.filter(bureau_id__in=bureau_ids).values_list("iris_id", flat=True)
    )
    keys = set(
        ZoneFigure.objects.filter(zone_id__in=iris_ids).values_list("key", flat=True).distinct()
    )
    return [i for i in INSEE_INDICATORS if set(i.numerator) | set(i.denominator) <= keys]


# Colour classes: ColorBrewer sequential "YlOrRd" and diverging "RdBu" (5 classes).
SEQUENTIAL = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
DIVERGING = ["#ca0020", "#f4a582", "#f7f7f7", "#92c5de", "#0571b0"]
NO_DATA = "#d9d9d9"


@dataclass(frozen=True)
class LegendClass:
    color: str
    low: float | None
    high: float | None


def classify(
    values: dict[int, float | None], *, diverging: bool = False
) -> tuple[dict[int, str], list[LegendClass]]:
    """Colours per bureau and the legend: quantile classes (at most 5, fewer when the values
    are fewer); diverging classes are symmetric around zero."""
    known = sorted(v for v in values.values() if v is not None)
    if not known:
        return dict.fromkeys(values, NO_DATA), []
    palette = DIVERGING if diverging else SEQUENTIAL
    if diverging:
        extent = max(abs(known[0]), abs(known[-1])) or 1.0
        step = 2 * extent / len(palette)
        bounds = [-extent + step * i for i in range(len(palette) + 1)]
    else:
        distinct = sorted(set(known))
        count = min(len(palette), len(distinct))
        palette = (
            [palette[-1]]
            if count == 1
            else [palette[round(i * (len(SEQUENTIAL) - 1) / (count - 1))] for i in range(count)]
        )
        if len(distinct) <= len(SEQUENTIAL):
            # Few values: one class each.
            legend = [LegendClass(palette[i], v, v) for i, v in enumerate(distinct)]
            return _assign(values, legend), legend
        bounds = [distinct[round(i * (len(distinct) - 1) / count)] for i in range(count + 1)]
    legend = [LegendClass(palette[i], bounds[i], bounds[i + 1]) for i in range(len(palette))]
    return _assign(values, legend), legend


def _assign(values: dict[int, float | None], legend: list[LegendClass]) -> dict[int, str]:
    colors: dict[int, str] = {}
    for bureau_id, value in values.items():
        if value is None:
            colors[bureau_id] = NO_DATA
            continue
        index = 0
        while index < len(legend) - 1 and value > (legend[index].high or 0.0):
            index += 1
        colors[bureau_id] = legend[index].color
    return colors
