"""Where door-to-door will pay most: a documented, adjustable score per bureau de vote.

    score = 100 × (wA·A' + wS·S' + wC·C') / (wA + wS + wC)

- A  abstention rate of the chosen round (abstentions / registered): voters to mobilise;
- S  share of expressed votes that went to the chosen candidacies or nuances in that round:
     how friendly the bureau is;
- X  optionally, an indicator of another app (a data layer's share of addresses, a forecast's
     votes to win), rescaled like the others, with its own weight wX;
- C  untapped potential = 1 − (our contacts in the bureau / registered voters), capped to
     [0, 1]: bureaux where we already know many voters need the doors least. Contact counts
     come from `territory.selectors.contact_counts_by_bureau` (people located by
     `geocode_people`); when it returns None (the user may not see the campaign's people) the
     term is left out and the interface says so.

Each term is rescaled to 0..1 across the bureaux being ranked (X' = (X − min) / (max − min);
0.5 when every bureau has the same value), so the weights say how much each term matters
relative to the others, whatever their raw ranges (abstention moves around 30-60 %, a
candidate's share around 5-40 %). A term without data (no share chosen, no contacts) has no
weight. A bureau without results for the round has no score. Defaults: wA = 1, wS = 1, wC = 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from territory.indicators import Indicator, values_by_bureau
from territory.models import BureauResult, Zone
from territory.selectors import ContactCounts


@dataclass(frozen=True)
class ScoreSettings:
    round_id: int
    candidacy_ids: tuple[int, ...] = ()
    nuances: tuple[str, ...] = ()
    weight_abstention: float = 1.0
    weight_share: float = 1.0
    weight_contacts: float = 0.5
    # The weight of an indicator of another app (territory.extensions: a data layer, a
    # forecast), whose values score_bureaux() receives as `extra_values`.
    weight_extra: float = 0.0

    def __post_init__(self) -> None:
        for name in ("weight_abstention", "weight_share", "weight_contacts", "weight_extra"):
            if not 0 <= getattr(self, name) <= 10:
                raise ValueError(f"{name} must be between 0 and 10")


@dataclass
class BureauScore:
    bureau: Zone
    registered: int | None
    abstention_rate: float | None
    share: float | None
    contacts: int | None
    coverage: float | None
    score: float | None
    terms: dict[str, float] = field(default_factory=dict)  # rescaled terms used


def _rescale(values: dict[int, float]) -> dict[int, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    if high == low:
        return dict.fromkeys(values, 0.5)
    return {k: (v - low) / (high - low) for k, v in values.items()}


def chosen_share(settings: ScoreSettings, bureau_ids: Sequence[int]) -> dict[int, float | None]:
    """Share of expressed votes of the chosen candidacies and nuances (a candidacy of a chosen
    nuance is counted once)."""
    from territory.models import CandidateVotes

    results = {
        r.bureau_id: r
        for r in BureauResult.objects.filter(round_id=settings.round_id, bureau_id__in=bureau_ids)
    }
    votes = CandidateVotes.objects.filter(result__in=list(results.values()))
    wanted: dict[int, int] = {}
    for bureau_id, candidacy_id, nuance, count in votes.values_list(
        "result__bureau_id", "candidacy_id", "candidacy__nuance", "votes"
    ):
        if candidacy_id in settings.candidacy_ids or (nuance and nuance in settings.nuances):
            wanted[bureau_id] = wanted.get(bureau_id, 0) + count
    return {
        b: (wanted.get(b, 0) / results[b].expressed if results[b].expressed else None)
        if b in results
        else None
        for b in bureau_ids
    }


def score_bureaux(
    bureaux: Sequence[Zone],
    settings: ScoreSettings,
    contacts: dict[int, ContactCounts] | None,
    extra_values: dict[int, float | None] | None = None,
) -> list[BureauScore]:
    """Scores, best first (bureaux without a score last)."""
    ids = [b.pk for b in bureaux]
    results = {
        r.bureau_id: r
        for r in BureauResult.objects.filter(round_id=settings.round_id, bureau_id__in=ids)
    }
    abstention = values_by_bureau(Indicator("abstention", round_id=settings.round_id), ids)
    use_share = bool(settings.candidacy_ids or settings.nuances) and settings.weight_share > 0
    share = chosen_share(settings, ids) if use_share else dict.fromkeys(ids)
    coverage: dict[int, float | None] = {}
    for b in ids:
        registered = results[b].registered if b in results else None
        if contacts is None or not registered:
            coverage[b] = None
        else:
            count = contacts.get(b, ContactCounts(0)).total
            coverage[b] = min(1.0, count / registered)
    scored = [b for b in ids if b in results]

    def known(values: dict[int, float | None], flip: bool = False) -> dict[int, float]:
        return {b: (1 - v if flip else v) for b in scored if (v := values.get(b)) is not None}

    terms = [("abstention", settings.weight_abstention, _rescale(known(abstention)))]
    if use_share:
        terms.append(("share", settings.weight_share, _rescale(known(share))))
    if contacts is not None and settings.weight_contacts > 0:
        terms.append(("untapped", settings.weight_contacts, _rescale(known(coverage, flip=True))))
    if extra_values and settings.weight_extra > 0:
        terms.append(("extra", settings.weight_extra, _rescale(known(extra_values))))
    out = []
    for bureau in bureaux:
        b = bureau.pk
        used = {name: values[b] for name, weight, values in terms if weight > 0 and b in values}
        total_weight = sum(weight for name, weight, _v in terms if name in used)
        score = (
            round(100 * sum(w * used[n] for n, w, _v in terms if n in used) / total_weight, 1)
            if b in results and total_weight
            else None
        )
        out.append(
            BureauScore(
                bureau=bureau,
                registered=results[b].registered if b in results else None,
                abstention_rate=abstention.get(b),
                share=share.get(b),
                contacts=(
                    contacts.get(b, ContactCounts(0)).total if contacts is not None else None
                ),
                coverage=coverage.get(b),
                score=score,
                terms=used,
            )
        )
    out.sort(key=lambda s: (s.score is None, -(s.score or 0), s.bureau.code))
    return out
