"""The per-bureau report of a commune: results of every imported round and the target score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from cocarde.tenancy.models import Campaign
from territory.formats.common import FormatError
from territory.models import BureauResult, Candidacy, CandidateVotes, Zone
from territory.selectors import bureaux_of_communes, contact_counts_by_bureau, rounds_with_results
from territory.targeting import ScoreSettings, score_bureaux


def resolve_candidacies(round_id: int, names: Sequence[str]) -> tuple[int, ...]:
    """Candidacies of a round given by id or by last name (case-insensitive)."""
    found = []
    for name in names:
        query = Candidacy.objects.filter(round_id=round_id)
        match = (
            query.filter(pk=int(name)) if name.isdigit() else query.filter(last_name__iexact=name)
        )
        candidacy = match.first()
        if candidacy is None:
            raise FormatError(
                _("no candidacy “%(name)s” in that round") % {"name": name}, field="--candidate"
            )
        found.append(candidacy.pk)
    return tuple(found)


def commune_report(
    commune_code: str,
    *,
    round_id: int | None = None,
    candidates: Sequence[str] = (),
    nuances: Sequence[str] = (),
    weights: dict[str, float] | None = None,
    campaign: Campaign | None = None,
) -> dict[str, Any]:
    commune = Zone.objects.filter(
        type__in=[Zone.Type.COMMUNE, Zone.Type.ARRONDISSEMENT], code=commune_code
    ).first()
    if commune is None:
        raise FormatError(_("unknown commune %(code)s") % {"code": commune_code}, field="--commune")
    bureaux = list(bureaux_of_communes([commune_code]).order_by("code"))
    ids = [b.pk for b in bureaux]
    rounds = rounds_with_results(ids)
    results = BureauResult.objects.filter(bureau_id__in=ids).select_related("round__election")
    per_bureau: dict[int, dict[int, BureauResult]] = {}
    for result in results:
        per_bureau.setdefault(result.bureau_id, {})[result.round_id] = result
    votes: dict[int, dict[str, int]] = {}
    for result_id, candidacy_name, first, last, count in CandidateVotes.objects.filter(
        result__in=results
    ).values_list(
        "result_id", "candidacy__list_label", "candidacy__first_name", "candidacy__last_name",
        "votes",
    ).order_by("candidacy__panel_number", "candidacy__last_name"):  # fmt: skip
        label = " ".join(p for p in (first, last) if p) or candidacy_name or "?"
        votes.setdefault(result_id, {})[label] = count

    score_round = round_id or (rounds[0].pk if rounds else None)
    if round_id is not None and round_id not in {r.pk for r in rounds}:
        raise FormatError(
            _("no results for round %(id)s in this commune") % {"id": round_id}, field="--round"
        )
    contacts = contact_counts_by_bureau(campaign, ids) if campaign is not None else None
    scores = {}
    settings = None
    if score_round is not None:
        settings = ScoreSettings(
            round_id=score_round,
            candidacy_ids=resolve_candidacies(score_round, candidates),
            nuances=tuple(nuances),
            **(weights or {}),
        )
        scores = {s.bureau.pk: s for s in score_bureaux(bureaux, settings, contacts)}

    def round_entry(result: BureauResult) -> dict[str, Any]:
        rate = result.abstention_rate
        return {
            "round_id": result.round_id,
            "election": result.round.election.name,
            "round": result.round.number,
            "registered": result.registered,
            "abstentions": result.abstentions,
            "abstention_rate": round(rate, 4) if rate is not None else None,
            "voters": result.voters,
            "blank": result.blank_ballots,
            "null": result.null_ballots,
            "expressed": result.expressed,
            "votes": votes.get(result.pk, {}),
        }

    rows = []
    for bureau in bureaux:
        bureau_rounds = [
            round_entry(per_bureau[bureau.pk][r.pk])
            for r in rounds
            if r.pk in per_bureau.get(bureau.pk, {})
        ]
        latest = bureau_rounds[0] if bureau_rounds else None
        score = scores.get(bureau.pk)
        contact = contacts.get(bureau.pk) if contacts is not None else None
        rows.append(
            {
                "code": bureau.code,
                "number": bureau.local_code,
                "label": bureau.name,
                "registered": latest["registered"] if latest else None,
                "abstention_rate": latest["abstention_rate"] if latest else None,
                "rounds": bureau_rounds,
                "contacts": None
                if contacts is None
                else {
                    "total": contact.total if contact else 0,
                    "by_support_level": contact.by_support_level if contact else {},
                },
                "score": score.score if score else None,
                "approximate_contour": bureau.is_approximate,
            }
        )
    return {
        "commune": {"code": commune.code, "name": commune.name},
        "rounds": [
            {"id": r.pk, "election": r.election.name, "round": r.number, "date": r.date.isoformat()}
            for r in rounds
        ],
        "score": None
        if settings is None
        else {
            "round_id": settings.round_id,
            "candidacy_ids": list(settings.candidacy_ids),
            "nuances": list(settings.nuances),
            "weights": {
                "abstention": settings.weight_abstention,
                "share": settings.weight_share,
                "contacts": settings.weight_contacts,
            },
            "contacts_connected": contacts is not None,
        },
        "bureaux": rows,
    }
