"""Who may receive a blast: the segment, minus no consent for this channel, campaign and
purpose, minus suppressions (unsubscribed, bounced, complained, erased), minus duplicate
addresses or numbers. Written once as delivery rows (one INSERT … SELECT), and checked again
just before each send.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Exists, Min, OuterRef, Q, QuerySet, Subquery

from crm.models import Channel, Consent, EmailAddress, Person, PhoneNumber, Suppression
from crm.normalize import normalise_email
from crm.segments.services import people_in
from crm.services.people import suppression_key_for
from messaging.models import Blast, Delivery


def active_consent(blast: Blast, person_ref: Any) -> QuerySet[Consent]:
    return Consent.objects.filter(
        person=person_ref,
        campaign_id=blast.campaign_id,
        channel=blast.channel,
        purpose=blast.purpose,
        withdrawn_at__isnull=True,
    ).filter(Q(confirmation_required=False) | Q(confirmed_at__isnull=False))


def applicable_suppressions(blast: Blast) -> QuerySet[Suppression]:
    return Suppression.objects.filter(
        Q(campaign__isnull=True) | Q(campaign_id=blast.campaign_id),
        Q(channel="") | Q(channel=blast.channel),
    )


def lawful_people(blast: Blast, people: QuerySet[Person]) -> QuerySet[Person]:
    """People annotated with the address to use (`address`), lawful recipients only."""
    if blast.channel == Channel.EMAIL:
        best: QuerySet[Any] = EmailAddress.objects.filter(
            person=OuterRef("pk"), status=EmailAddress.Status.VALID
        ).order_by("-is_primary", "id")
        value = "email"
    else:
        best = (
            PhoneNumber.objects.filter(person=OuterRef("pk"), status=PhoneNumber.Status.VALID)
            .exclude(kind=PhoneNumber.Kind.LANDLINE)
            .order_by("-is_primary", "id")
        )
        value = "e164"
    suppressed = applicable_suppressions(blast).filter(key_hash=OuterRef("contact_key"))
    return (
        people.order_by()
        .annotate(
            address=Subquery(best.values(value)[:1]),
            contact_key=Subquery(best.values("suppression_key")[:1]),
        )
        .filter(address__isnull=False)
        .filter(Exists(active_consent(blast, OuterRef("pk"))))
        .exclude(Exists(suppressed))
    )


def audience(blast: Blast) -> QuerySet[Any]:
    """One row per address: {"address", "pid"} (the lowest person id when an address is shared,
    e.g. a household's number)."""
    if blast.segment is None:
        raise ValueError("A blast needs an audience segment.")
    people: QuerySet[Any] = lawful_people(blast, people_in(blast.segment))
    return people.values("address").annotate(pid=Min("id")).order_by()


def count_audience(blast: Blast) -> int:
    return audience(blast).count()


def snapshot(blast: Blast) -> int:
    """Write one queued delivery per lawful recipient (ON CONFLICT DO NOTHING)."""
    rows = audience(blast)
    sql, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(Delivery._meta.db_table)
    insert = (
        f"INSERT INTO {table} (blast_id, person_id, address) "  # noqa: S608
        f"SELECT %s, sub.pid, sub.address FROM ({sql}) sub WHERE true "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(insert, [blast.pk, *params])
        return max(cursor.rowcount, 0)


def refused_now(blast: Blast, rows: Iterable[tuple[int, int | None, str]]) -> dict[int, str]:
    """Of (delivery id, person id, address), those that may no longer be sent, with why.

    Three queries per chunk: suppressions of the addresses, consents of the people, and the
    status of the addresses (a bounce recorded on the contact point)."""
    rows = list(rows)
    refused: dict[int, str] = {}
    kind = "email" if blast.channel == Channel.EMAIL else "phone"
    keys = {d: suppression_key_for(kind, addr) for d, _p, addr in rows}
    blocked = dict(
        applicable_suppressions(blast)
        .filter(key_hash__in=set(keys.values()))
        .values_list("key_hash", "reason")
    )
    person_ids = {p for _d, p, _a in rows if p is not None}
    consenting = set(
        Consent.objects.filter(
            person_id__in=person_ids,
            campaign_id=blast.campaign_id,
            channel=blast.channel,
            purpose=blast.purpose,
            withdrawn_at__isnull=True,
        )
        .filter(Q(confirmation_required=False) | Q(confirmed_at__isnull=False))
        .values_list("person_id", flat=True)
    )
    if blast.channel == Channel.EMAIL:
        invalid = set(
            EmailAddress.objects.filter(email__in=[normalise_email(a) for _d, _p, a in rows])
            .exclude(status=EmailAddress.Status.VALID)
            .values_list("email", flat=True)
        )
    else:
        invalid = set()
    for delivery_id, person_id, address in rows:
        if person_id is None:
            refused[delivery_id] = "erased"
        elif keys[delivery_id] in blocked:
            refused[delivery_id] = f"suppressed: {blocked[keys[delivery_id]]}"
        elif person_id not in consenting:
            refused[delivery_id] = "no consent"
        elif address in invalid:
            refused[delivery_id] = "address invalid"
    return refused
