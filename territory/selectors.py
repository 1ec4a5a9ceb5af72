"""Read queries shared by the map, the targeting table, the report and other apps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from cocarde.tenancy.models import Campaign
from territory.models import BureauResult, ElectionRound, Zone


def bureaux_of_communes(commune_codes: list[str]) -> QuerySet[Zone]:
    return Zone.objects.filter(
        type=Zone.Type.BUREAU,
        parents__type__in=[Zone.Type.COMMUNE, Zone.Type.ARRONDISSEMENT],
        parents__code__in=commune_codes,
    ).distinct()


def campaign_bureaux(campaign: Campaign) -> QuerySet[Zone]:
    """The bureaux de vote of a campaign's territory: those of its communes and of its
    constituency. A national team without a territory of its own sees every bureau."""
    communes = list(campaign.commune_codes or [])
    circo = campaign.circonscription_code
    if not communes and not circo:
        if campaign.is_national:
            return Zone.objects.filter(type=Zone.Type.BUREAU)
        return Zone.objects.none()
    condition = Q()
    if communes:
        condition |= Q(
            parents__type__in=[Zone.Type.COMMUNE, Zone.Type.ARRONDISSEMENT],
            parents__code__in=communes,
        )
    if circo:
        condition |= Q(parents__type=Zone.Type.CIRCONSCRIPTION, parents__code=circo)
    ids = Zone.objects.filter(condition, type=Zone.Type.BUREAU).values("pk")
    return Zone.objects.filter(pk__in=ids)


def rounds_with_results(bureau_ids: list[int]) -> list[ElectionRound]:
    """Rounds that have results in these bureaux, most recent first."""
    round_ids = BureauResult.objects.filter(bureau_id__in=bureau_ids).values("round_id").distinct()
    return list(
        ElectionRound.objects.filter(pk__in=round_ids)
        .select_related("election")
        .order_by("-date", "-number")
    )


@dataclass(frozen=True)
class ContactCounts:
    """Our contacts living in (or registered at) one bureau."""

    total: int
    by_support_level: dict[str, int] = field(default_factory=dict)


SUPPORT_UNKNOWN = "unknown"


def contact_counts_by_bureau(
    campaign: Campaign, bureau_ids: list[int], *, user: Any = None
) -> dict[int, ContactCounts] | None:
    """How many of the campaign's contacts each bureau holds: THE one place that joins people
    to bureaux for the map, the targeting score and `territory_report`.

    A person is in a bureau when `territory.PersonLocation.bureau` says so: their roll's bureau,
    else the bureau of their geocoded address (`geocode_people`). The people counted are the
    campaign's (a national team: everyone), as `user` may see them through
    cocarde.tenancy.permissions (None: the system, e.g. the report command). `by_support_level`
    ("1".."5", "unknown") is a political opinion (GDPR art. 9): filled only for the system or a
    user holding VIEW_SENSITIVE on the campaign, else empty. Bureaux without contacts are at 0.
    Returns None when the user may not see the campaign's people at all.
    """
    from cocarde.tenancy.permissions import Capability, can
    from crm.segments.compiler import universe
    from crm.segments.registry import BuildContext
    from territory.models import PersonLocation

    if user is not None and not can(user, Capability.VIEW_PEOPLE, campaign):
        return None
    sensitive = user is None or can(user, Capability.VIEW_SENSITIVE, campaign)
    people = universe(BuildContext(campaign=campaign, user=user))
    rows = (
        PersonLocation.objects.filter(
            bureau_id__in=list(bureau_ids), person__in=people.values("pk")
        )
        .values_list("bureau_id", "person__support_level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: dict[int, ContactCounts] = {b: ContactCounts(0, {}) for b in bureau_ids}
    totals: dict[int, int] = dict.fromkeys(bureau_ids, 0)
    levels: dict[int, dict[str, int]] = {b: {} for b in bureau_ids}
    for bureau_id, level, n in rows:
        totals[bureau_id] += n
        if sensitive:
            key = str(level) if level else SUPPORT_UNKNOWN
            levels[bureau_id][key] = levels[bureau_id].get(key, 0) + n
    for b in bureau_ids:
        counts[b] = ContactCounts(totals[b], dict(sorted(levels[b].items())))
    return counts
