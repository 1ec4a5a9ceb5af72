"""Import election results per bureau de vote. Re-importing the same file changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from territory.formats.common import FormatError
from territory.formats.results import ParsedBureau, ParsedCandidate, parse_results
from territory.models import BureauResult, Candidacy, CandidateVotes, ElectionRound, Zone
from territory.services.zones import ZoneSpec, ensure_commune, upsert_zones

TOTAL_FIELDS = {
    "registered": "registered",
    "abstentions": "abstentions",
    "voters": "voters",
    "blank": "blank_ballots",
    "null": "null_ballots",
    "expressed": "expressed",
}
CANDIDACY_FIELDS = ("panel_number", "last_name", "first_name", "sex", "nuance", "list_label")


def get_round(election_id: int, number: int, *, date: Any = None) -> ElectionRound:
    """The round to import into; created only when a date is given."""
    from territory.models import Election

    election = Election.objects.filter(pk=election_id).first()
    if election is None:
        raise FormatError(_("no election with id %(id)s") % {"id": election_id}, field="--election")
    election_round = ElectionRound.objects.filter(election=election, number=number).first()
    if election_round is None:
        if date is None:
            raise FormatError(
                _("%(election)s has no round %(number)s: give its date to create it")
                % {"election": election.name, "number": number},
                field="--round",
            )
        election_round = ElectionRound.objects.create(election=election, number=number, date=date)
    return election_round


@transaction.atomic
def import_results(
    paths: Sequence[str | Path],
    *,
    election_round: ElectionRound,
    actor: Any,
    election_id: str | None = None,
) -> dict[str, Any]:
    """Store registered, abstentions, voters, blank, null, expressed and each candidacy's
    votes per bureau. Bad input raises FormatError before anything is written."""
    parsed = parse_results(paths, election_id=election_id)
    bureaux = _ensure_zones(parsed.bureaux)
    candidacies, candidacies_created, candidacies_updated = _ensure_candidacies(
        election_round, parsed.bureaux
    )
    existing = {
        r.bureau_id: r
        for r in BureauResult.objects.filter(
            round=election_round, bureau_id__in=[z.pk for z in bureaux.values()]
        )
    }
    stored_votes: dict[int, dict[int, int]] = {}
    for result_id, candidacy_id, votes in CandidateVotes.objects.filter(
        result_id__in=[r.pk for r in existing.values()]
    ).values_list("result_id", "candidacy_id", "votes"):
        stored_votes.setdefault(result_id, {})[candidacy_id] = votes

    source = ", ".join(Path(p).name for p in paths)[:255]
    created: list[tuple[BureauResult, ParsedBureau]] = []
    changed: list[tuple[BureauResult, ParsedBureau]] = []
    unchanged = 0
    for bureau in parsed.bureaux:
        zone = bureaux[bureau.zone_code]
        totals = {field: getattr(bureau, attr) for attr, field in TOTAL_FIELDS.items()}
        wanted_votes = {candidacies[c.key].pk: c.votes for c in bureau.candidates}
        result = existing.get(zone.pk)
        if result is None:
            created.append(
                (BureauResult(round=election_round, bureau=zone, source=source, **totals), bureau)
            )
            continue
        same_totals = all(getattr(result, f) == v for f, v in totals.items())
        if same_totals and stored_votes.get(result.pk, {}) == wanted_votes:
            unchanged += 1
            continue
        for f, v in totals.items():
            setattr(result, f, v)
        result.source = source
        changed.append((result, bureau))

    BureauResult.objects.bulk_create([r for r, _b in created], batch_size=2000)
    if any(r.pk is None for r, _b in created):
        ids = dict(
            BureauResult.objects.filter(
                round=election_round, bureau_id__in=[r.bureau_id for r, _b in created]
            ).values_list("bureau_id", "pk")
        )
        for r, _b in created:
            r.pk = ids[r.bureau_id]
    BureauResult.objects.bulk_update(
        [r for r, _b in changed], [*TOTAL_FIELDS.values(), "source"], batch_size=2000
    )
    CandidateVotes.objects.filter(result_id__in=[r.pk for r, _b in changed]).delete()
    CandidateVotes.objects.bulk_create(
        [
            CandidateVotes(result_id=r.pk, candidacy_id=candidacies[c.key].pk, votes=c.votes)
            for r, b in (*created, *changed)
            for c in b.candidates
        ],
        batch_size=5000,
    )
    summary = {
        "files": [Path(p).name for p in paths],
        "layout": parsed.layout,
        "encoding": parsed.encoding,
        "election": election_round.election_id,
        "round": election_round.number,
        "bureaux": len(parsed.bureaux),
        "communes": len({b.commune_code for b in parsed.bureaux}),
        "candidacies": len(candidacies),
        "candidacies_created": candidacies_created,
        "candidacies_updated": candidacies_updated,
        "created": len(created),
        "updated": len(changed),
        "unchanged": unchanged,
    }
    if created or changed or candidacies_created or candidacies_updated:
        record_event("territory.import_results", actor=actor, data=summary)
    return summary


def _ensure_zones(bureaux: list[ParsedBureau]) -> dict[str, Zone]:
    """Départements, communes, constituencies and bureaux named by the file, created when
    missing; existing names are kept (the roll's bureau labels beat the results file's)."""
    communes: dict[str, ParsedBureau] = {}
    for b in bureaux:
        communes.setdefault(b.commune_code, b)
    known = set(
        Zone.objects.filter(type=Zone.Type.COMMUNE, code__in=list(communes)).values_list(
            "code", flat=True
        )
    )
    for code, b in communes.items():
        if code not in known:
            ensure_commune(code, name=b.commune_name, departement=b.departement_code)
    circo_specs = {
        b.circonscription_code: ZoneSpec(
            Zone.Type.CIRCONSCRIPTION,
            b.circonscription_code,
            b.circonscription_code,
            parents=((Zone.Type.DEPARTEMENT, b.departement_code),),
        )
        for b in bureaux
        if b.circonscription_code
    }
    upsert_zones(list(circo_specs.values()), update_existing=False)
    specs = []
    for b in bureaux:
        parents: tuple[tuple[str, str], ...] = ((Zone.Type.COMMUNE, b.commune_code),)
        if b.circonscription_code:
            parents += ((Zone.Type.CIRCONSCRIPTION, b.circonscription_code),)
        name = _("Polling station %(code)s") % {"code": b.bureau_code}
        specs.append(ZoneSpec(Zone.Type.BUREAU, b.zone_code, name, parents=parents))
    zones, _created, _updated = upsert_zones(specs, update_existing=False)
    return {b.zone_code: zones[(Zone.Type.BUREAU, b.zone_code)] for b in bureaux}


def _candidacy_values(candidate: ParsedCandidate) -> dict[str, Any]:
    return {name: getattr(candidate, name) for name in CANDIDACY_FIELDS}


def _ensure_candidacies(
    election_round: ElectionRound, bureaux: list[ParsedBureau]
) -> tuple[dict[str, Candidacy], int, int]:
    wanted: dict[str, ParsedCandidate] = {}
    for b in bureaux:
        for c in b.candidates:
            known = wanted.get(c.key)
            if known is None or (c.nuance and not known.nuance):
                wanted[c.key] = c
    existing = {
        c.key: c for c in Candidacy.objects.filter(round=election_round, key__in=list(wanted))
    }
    to_create, to_update = [], []
    for key, c in wanted.items():
        values = _candidacy_values(c)
        candidacy = existing.get(key)
        if candidacy is None:
            candidacy = Candidacy(round=election_round, key=key, **values)
            to_create.append(candidacy)
            existing[key] = candidacy
        elif any(getattr(candidacy, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(candidacy, k, v)
            to_update.append(candidacy)
    Candidacy.objects.bulk_create(to_create)
    if any(c.pk is None for c in to_create):
        existing.update(
            {
                c.key: c
                for c in Candidacy.objects.filter(
                    round=election_round, key__in=[c.key for c in to_create]
                )
            }
        )
    Candidacy.objects.bulk_update(to_update, list(CANDIDACY_FIELDS))
    return existing, len(to_create), len(to_update)
