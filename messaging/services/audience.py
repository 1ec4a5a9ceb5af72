"""Who may receive a blast: the segment, minus no consent for this channel, campaign and
purpose, minus suppressions (unsubscribed, bounced, complained, erased), minus duplicate
addresses or numbers. Written once as delivery rows (one INSERT … SELECT), and checked again
just before each send.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Exists, Min, OuterRef, Q, QuerySet, Subquery

from crm.models import Channel, Consent, EmailAddress, Person, PhoneNumber, Suppression
from crm.segments.services import people_in
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
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # Its estimated cost grows with the audience and crosses the JIT threshold: the
            # compilation then costs more than it saves (tens of ms at 20,000 recipients).
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(insert, [blast.pk, *params])
        return max(cursor.rowcount, 0)


def suppress_refused(blast: Blast, token: str) -> int:
    """Just before sending: rows of this claim that may no longer be sent become `suppressed`,
    with the reason. Checked in the database, a few UPDATEs per chunk and no work per row here:
    the person erased, a suppression of the address (unsubscribed, bounced, complained, STOP),
    consent withdrawn, the address marked invalid."""
    rows = Delivery.objects.filter(
        blast_id=blast.pk, claimed_by=token, status=Delivery.Status.CLAIMED
    )
    if blast.channel == Channel.EMAIL:
        contact: QuerySet[Any] = EmailAddress.objects.filter(email=OuterRef(OuterRef("address")))
        invalid: QuerySet[Any] = EmailAddress.objects.filter(email=OuterRef("address")).exclude(
            status=EmailAddress.Status.VALID
        )
    else:
        contact = PhoneNumber.objects.filter(e164=OuterRef(OuterRef("address")))
        invalid = PhoneNumber.objects.filter(
            e164=OuterRef("address"), person=OuterRef("person")
        ).exclude(status=PhoneNumber.Status.VALID)
    key = Subquery(contact.values("suppression_key")[:1])
    suppressed = applicable_suppressions(blast).filter(key_hash=key)
    refused = Delivery.Status.SUPPRESSED
    count = rows.filter(person__isnull=True).update(status=refused, reason="erased")
    count += rows.filter(Exists(suppressed)).update(status=refused, reason="suppressed")
    count += rows.exclude(Exists(active_consent(blast, OuterRef("person")))).update(
        status=refused, reason="no consent"
    )
    count += rows.filter(Exists(invalid)).update(status=refused, reason="address invalid")
    return count
