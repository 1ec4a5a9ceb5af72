"""Vote transfers between two rounds (or two elections) over the campaign's bureaux: where each
candidate's voters went, and how many abstained. See `inference` for the method."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from territory.intelligence.models import TransferStudy
from territory.intelligence.services.inference import estimate_transfers
from territory.models import BureauResult, CandidateVotes, ElectionRound
from territory.selectors import campaign_bureaux

MAX_CANDIDATES = 8
ABSTENTION = "abstention"
BLANK_NULL = "blank_null"
OTHERS = "others"


class TransferError(ValueError):
    pass


Categories = tuple[dict[int, dict[str, float]], list[tuple[str, str]], dict[int, int]]


def _categories(election_round: ElectionRound, bureau_ids: list[int]) -> Categories:
    """Per bureau, registered voters by category (candidates, others, blank+null, abstention)."""
    results = {
        r.pk: r for r in BureauResult.objects.filter(round=election_round, bureau_id__in=bureau_ids)
    }
    totals: dict[int, int] = defaultdict(int)
    names: dict[int, str] = {}
    votes = list(
        CandidateVotes.objects.filter(result_id__in=list(results)).select_related("candidacy")
    )
    for v in votes:
        totals[v.candidacy_id] += v.votes
        names[v.candidacy_id] = v.candidacy.display_name + (
            f" ({v.candidacy.nuance})" if v.candidacy.nuance else ""
        )
    top = sorted(totals, key=lambda c: -totals[c])[:MAX_CANDIDATES]
    per_bureau: dict[int, dict[str, float]] = {}
    registered: dict[int, int] = {}
    for result in results.values():
        row: dict[str, float] = defaultdict(float)
        row[ABSTENTION] = result.abstentions
        row[BLANK_NULL] = max(0, result.voters - result.expressed)
        per_bureau[result.bureau_id] = row
        registered[result.bureau_id] = result.registered
    for v in votes:
        bureau_id = results[v.result_id].bureau_id
        key = f"c{v.candidacy_id}" if v.candidacy_id in top else OTHERS
        per_bureau[bureau_id][key] += v.votes
    labels = [(f"c{c}", names[c]) for c in top]
    if len(totals) > len(top):
        labels.append((OTHERS, _("Other candidates")))
    labels += [(BLANK_NULL, _("Blank and null")), (ABSTENTION, _("Abstention"))]
    return per_bureau, labels, registered


@transaction.atomic
def study_transfers(
    *, actor: Any, campaign: Any, source_round: ElectionRound, target_round: ElectionRound,
    samples: int = 200,
) -> TransferStudy:  # fmt: skip
    if source_round.pk == target_round.pk:
        raise TransferError(_("Choose two different rounds."))
    bureau_ids = list(campaign_bureaux(campaign).values_list("pk", flat=True))
    source, source_labels, registered = _categories(source_round, bureau_ids)
    target, target_labels, _registered = _categories(target_round, bureau_ids)
    common = sorted(set(source) & set(target))
    if len(common) < len(source_labels) + 1:
        raise TransferError(
            _(
                "Too few polling stations with results in both rounds (%(count)s) for "
                "%(categories)s categories: the estimate needs more polling stations than "
                "categories."
            )
            % {"count": len(common), "categories": len(source_labels)}
        )
    x = np.array([[source[b].get(k, 0.0) for k, _l in source_labels] for b in common])
    y = np.array([[target[b].get(k, 0.0) for k, _l in target_labels] for b in common])
    x = x / x.sum(axis=1, keepdims=True)
    y = y / y.sum(axis=1, keepdims=True)
    weights = np.array([registered[b] for b in common], dtype=float)
    estimate = estimate_transfers(x, y, weights, samples=samples)
    source_totals = [sum(source[b].get(k, 0.0) for b in common) for k, _l in source_labels]
    result = {
        "bureaux": len(common),
        "samples": samples,
        "sources": [{"key": k, "label": str(label), "voters": int(t)}
                    for (k, label), t in zip(source_labels, source_totals, strict=True)],
        "targets": [{"key": k, "label": str(label)} for k, label in target_labels],
        "matrix": estimate.matrix.round(4).tolist(),
        "low": estimate.low.round(4).tolist(),
        "high": estimate.high.round(4).tolist(),
    }  # fmt: skip
    study = TransferStudy.objects.create(
        campaign=campaign,
        source_round=source_round,
        target_round=target_round,
        result=result,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record_event(
        "intelligence.transfers_studied", actor=actor, campaign=campaign, target=study,
        data={"bureaux": len(common)},
    )  # fmt: skip
    return study
