"""Read queries for the treasurer's screens and exports, scoped by the tenancy layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cocarde.tenancy.permissions import Capability, scope
from donations.models import Donation, Receipt

EXPORT_HEADER = (
    "donation_id",
    "donor_id",
    "civility",
    "last_name",
    "first_name",
    "street",
    "postcode",
    "city",
    "country",
    "amount",
    "refunded",
    "method",
    "kind",
    "date",
    "receipt_number",
    "campaign",
)


def donations_for(user: Any, campaign_id: int | None = None) -> QuerySet[Donation]:
    rows = scope(Donation.objects.all(), user, Capability.VIEW_DONATIONS)
    if campaign_id:
        rows = rows.filter(campaign_id=campaign_id)
    return rows.select_related("campaign", "person")


def export_rows(donations: QuerySet[Donation]) -> Iterator[list[str]]:
    """The campaign account's table: one row per gift, the CNCCFP's fields."""
    yield list(EXPORT_HEADER)
    numbers = dict(
        Receipt.objects.filter(donation__in=donations, status=Receipt.Status.ISSUED).values_list(
            "donation_id", "number"
        )
    )
    for gift in donations.order_by("received_at", "pk").iterator(chunk_size=500):
        yield [
            str(gift.uuid),
            str(gift.person.uuid) if gift.person is not None else "",
            gift.civility,
            gift.last_name,
            gift.first_name,
            gift.street,
            gift.postcode,
            gift.city,
            gift.country,
            f"{gift.amount_cents / 100:.2f}",
            f"{gift.refunded_cents / 100:.2f}",
            gift.get_method_display(),
            gift.get_kind_display(),
            timezone.localtime(gift.received_at).strftime("%Y-%m-%d"),
            str(numbers.get(gift.pk, "")),
            gift.campaign.name,
        ]


def totals(donations: QuerySet[Donation]) -> dict[str, Any]:
    net = Sum("amount_cents") - Sum("refunded_cents")
    by_month = (
        donations.annotate(month=TruncMonth("received_at"))
        .values("month")
        .annotate(total=net, count=Count("pk"))
        .order_by("month")
    )
    by_method = donations.values("method").annotate(total=net, count=Count("pk")).order_by("method")
    overall = donations.aggregate(total=net, count=Count("pk"))
    return {"by_month": list(by_month), "by_method": list(by_method), "overall": overall}


def donor_total_cents(person_id: int, campaign_id: int | None = None) -> int:
    rows = Donation.objects.filter(person_id=person_id)
    if campaign_id:
        rows = rows.filter(campaign_id=campaign_id)
    result = rows.aggregate(total=Sum("amount_cents", default=0) - Sum("refunded_cents", default=0))
    return int(result["total"])
