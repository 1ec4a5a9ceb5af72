"""Read queries shared by the map, the targeting table, the report and other apps."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

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


def contact_counts_by_bureau(
    campaign: Campaign, bureau_ids: list[int]
) -> dict[int, ContactCounts] | None:
    """How many of the campaign's contacts each bureau holds: THE one place that joins people
    to bureaux for the map, the targeting score and `territory_report`.

    Returns None while no people directory is connected: callers then leave the "our contacts"
    term out of the score and say so, rather than pretend every bureau has zero contacts.
    Once connected it must return {bureau zone id: ContactCounts} for `bureau_ids`, counting
    only the campaign's people the caller may see (scope through cocarde.tenancy.permissions),
    with bureaux without contacts either absent or at zero.
    """
    return None
