"""Taking a chunk of deliveries for sending, and recording what became of it.

On PostgreSQL a chunk is taken in one statement: the queued rows are locked (FOR UPDATE SKIP
LOCKED), checked again against suppressions, consent and address validity, and moved, the
refused ones to `suppressed` with the reason and the others to `sending`, committed before the
provider call; the same statement returns the merge data of the rows to send (the person's
columns and the blast's custom fields), as tuples. A sent batch is recorded in one statement
too: its rows move to `sent` and each gets its timeline action.

SQLite (the embedded mode: one process, no concurrent claims) takes the same steps with a few
ORM statements.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from crm.models import Action, ActionType, Channel, CustomField, EmailAddress, PhoneNumber
from messaging.models import Blast, Delivery
from messaging.services import audience

if TYPE_CHECKING:
    from messaging.services.pipeline import BlastContext

S = Delivery.Status

Row = tuple[int, int | None, str, str]  # delivery id, person id, address, variant
# A row to send: Row's four columns, then the person's (PERSON_COLUMNS), then four per custom
# field (CUSTOM_COLUMNS), in the order of `custom_fields`.
Recipient = tuple[Any, ...]

PERSON_COLUMNS = (
    "first_names",
    "usage_name",
    "birth_name",
    "commune_name",
    "polling_station_code",
    "first_source",
)
CUSTOM_COLUMNS = ("value_text", "value_number", "value_date", "value_bool")


def lease_until() -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=settings.MESSAGING_CLAIM_LEASE_SECONDS)


def new_token(worker: str) -> str:
    return f"{worker}:{uuid.uuid4().hex[:8]}"


# --- claiming only (queued → claimed) ------------------------------------------------------------

CLAIM_SQL = """
UPDATE messaging_delivery SET status = %s, claimed_by = %s, claimed_until = %s,
       attempts = attempts + 1
WHERE id IN (
    SELECT id FROM messaging_delivery WHERE blast_id = %s AND status = %s
    ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
)
RETURNING id, person_id, address, variant
"""


def claim(blast_id: int, worker: str, limit: int) -> tuple[str, list[Row]]:
    """Up to `limit` queued rows, now `claimed` under a token naming this claim."""
    token = new_token(worker)
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(CLAIM_SQL, [S.CLAIMED, token, lease_until(), blast_id, S.QUEUED, limit])
            rows = sorted(cursor.fetchall())
        return token, rows
    with transaction.atomic():  # SQLite (embedded mode): one process, no concurrent claims
        ids = list(
            Delivery.objects.filter(blast_id=blast_id, status=S.QUEUED)
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        Delivery.objects.filter(pk__in=ids).update(
            status=S.CLAIMED, claimed_by=token, claimed_until=lease_until()
        )
    return token, list(
        Delivery.objects.filter(pk__in=ids)
        .order_by("id")
        .values_list("id", "person_id", "address", "variant")
    )


def mark(blast_id: int, token: str, *, frm: str, variant: str | None = None, **changes: Any) -> int:
    # blast_id and status first: the (blast, status, id) index finds the few in-flight rows
    # (claimed_by alone has no index and would scan every delivery, per chunk).
    rows = Delivery.objects.filter(blast_id=blast_id, status=frm, claimed_by=token)
    if variant is not None:
        rows = rows.filter(variant=variant)
    return rows.update(**changes)


# --- taking for sending (queued → sending, or suppressed) ---------------------------------------


def custom_fields(blast: Blast, keys: set[str]) -> list[tuple[str, int]]:
    """(key, field id) of the merge fields the templates use: the campaign's field, else the
    national one of that key (another campaign's fields are never read)."""
    found: dict[str, int] = {}
    for key, field_id, campaign_id in (
        CustomField.objects.filter(key__in=keys)
        .filter(Q(campaign__isnull=True) | Q(campaign_id=blast.campaign_id))
        .order_by("key", "campaign_id", "id")
        .values_list("key", "id", "campaign_id")
    ):
        if campaign_id is not None or key not in found:
            found[key] = field_id
    return sorted(found.items())


def refusal(blast: Blast) -> Case:
    """Why a delivery may no longer be sent ("" if it may), first reason first: the person
    erased, a suppression of the address (unsubscribed, bounced, complained, STOP), consent
    withdrawn, the address marked invalid."""
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
    suppressed = audience.applicable_suppressions(blast).filter(key_hash=key)
    return Case(
        When(person__isnull=True, then=Value("erased")),
        When(Exists(suppressed), then=Value("suppressed")),
        When(~Exists(audience.active_consent(blast, OuterRef("person"))), then=Value("no consent")),
        When(Exists(invalid), then=Value("address invalid")),
        default=Value(""),
        output_field=CharField(),
    )


# Each part is evaluated per row of the chunk, through indexes: the checks and the merge data
# sit in LATERAL subqueries with OFFSET 0 (kept as subqueries, so planned for one row each),
# not as joins or hashed subplans over every consent, address or person of the campaign; the
# locked rows are updated through their ctid (stable while the lock is held). The scan starts
# after the last id this runner took (`id > %s`): the rows below were taken already, and
# walking their index entries again made each chunk cost more than the one before.
TAKE_SQL = """
WITH picked AS (
    SELECT id, ctid FROM messaging_delivery WHERE blast_id = %s AND status = %s AND id > %s
    ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
),
checked AS (
    SELECT picked.id, r.refused FROM picked CROSS JOIN LATERAL ({refusal} OFFSET 0) r
),
moved AS (
    UPDATE messaging_delivery d
    SET status = CASE WHEN c.refused = '' THEN %s ELSE %s END,
        reason = CASE WHEN c.refused = '' THEN d.reason ELSE c.refused END,
        claimed_by = %s, claimed_until = %s, attempts = d.attempts + 1
    FROM checked c
    WHERE d.ctid = ANY (ARRAY(SELECT ctid FROM picked)) AND d.id = c.id
    RETURNING d.id, d.person_id, d.address, d.variant, c.refused
)
SELECT m.id, m.person_id, m.address, m.variant, {person}{custom}, m.refused
FROM moved m
LEFT JOIN LATERAL (
    SELECT {person_columns} FROM crm_person WHERE id = m.person_id OFFSET 0
) p ON true{joins}
ORDER BY m.id
"""


def take_sql(blast: Blast, fields: Sequence[tuple[str, int]]) -> tuple[str, list[Any]]:
    """The statement of `take` for this blast; the parameters are (blast, queued, after,
    limit), these, (sending, suppressed, token, lease), then one field id per custom field."""
    checked = (
        Delivery.objects.filter(pk=RawSQL("picked.id", []))
        .annotate(refused=refusal(blast))
        .order_by()
        .values_list("refused")
    )
    refusal_sql, refusal_params = checked.query.sql_with_params()
    person = ", ".join(f"p.{column}" for column in PERSON_COLUMNS)
    custom = "".join(f", c{i}.{column}" for i in range(len(fields)) for column in CUSTOM_COLUMNS)
    joins = "".join(
        f"\nLEFT JOIN LATERAL (SELECT {', '.join(CUSTOM_COLUMNS)} FROM crm_customfieldvalue"  # noqa: S608
        f" WHERE person_id = m.person_id AND field_id = %s OFFSET 0) c{i} ON true"
        for i in range(len(fields))
    )
    sql = TAKE_SQL.format(
        refusal=refusal_sql,
        person=person,
        person_columns=", ".join(PERSON_COLUMNS),
        custom=custom,
        joins=joins,
    )
    return sql, list(refusal_params)


def take(ctx: BlastContext, worker: str, limit: int) -> tuple[str, list[Recipient], int]:
    """Up to `limit` queued rows checked again just now: those refused are `suppressed`, the
    others `sending` (committed) under a new token and returned with their merge data; and how
    many rows were taken in all."""
    token = new_token(worker)
    fields = ctx.custom_fields()
    if connection.features.has_select_for_update_skip_locked:
        if ctx.take_sql is None:
            ctx.take_sql = take_sql(ctx.blast, fields)
        sql, params = ctx.take_sql
        field_ids = [field_id for _key, field_id in fields]
        for after in (ctx.taken_up_to, 0) if ctx.taken_up_to else (0,):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    sql,
                    [ctx.blast.pk, S.QUEUED, after, limit, *params, S.SENDING, S.SUPPRESSED,
                     token, lease_until(), *field_ids],
                )  # fmt: skip
                taken = cursor.fetchall()
            if taken:
                ctx.taken_up_to = taken[-1][0]
                break
        return token, [row[:-1] for row in taken if not row[-1]], len(taken)
    # SQLite (embedded mode): one process, no concurrent claims.
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(blast_id=ctx.blast.pk, status=S.QUEUED)
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        Delivery.objects.filter(pk__in=ids).update(
            status=S.CLAIMED, claimed_by=token, claimed_until=lease_until()
        )
        for reason, pks in _refused(ctx.blast, token):
            Delivery.objects.filter(pk__in=pks).update(status=S.SUPPRESSED, reason=reason)
        mark(ctx.blast.pk, token, frm=S.CLAIMED, status=S.SENDING)
        rows = list(
            Delivery.objects.filter(blast_id=ctx.blast.pk, status=S.SENDING, claimed_by=token)
            .order_by("id")
            .values_list("id", "person_id", "address", "variant")
        )
    return token, merge_rows(rows, fields), len(ids)


def _refused(blast: Blast, token: str) -> list[tuple[str, list[int]]]:
    refused: dict[str, list[int]] = {}
    for pk, reason in (
        Delivery.objects.filter(blast_id=blast.pk, status=S.CLAIMED, claimed_by=token)
        .annotate(refused=refusal(blast))
        .exclude(refused="")
        .values_list("id", "refused")
    ):
        refused.setdefault(reason, []).append(pk)
    return sorted(refused.items())


def merge_rows(rows: Sequence[Row], fields: Sequence[tuple[str, int]]) -> list[Recipient]:
    """Rows with their merge columns, as `take` returns them on PostgreSQL."""
    from crm.models import CustomFieldValue, Person

    person_ids = [p for _d, p, _a, _v in rows if p is not None]
    people = {
        row[0]: row[1:]
        for row in Person.objects.filter(pk__in=person_ids).values_list("id", *PERSON_COLUMNS)
    }
    values: dict[tuple[int, int], tuple[Any, ...]] = {}
    if fields:
        for row in CustomFieldValue.objects.filter(
            person_id__in=person_ids, field_id__in=[f for _k, f in fields]
        ).values_list("person_id", "field_id", *CUSTOM_COLUMNS):
            values[(row[0], row[1])] = row[2:]
    empty_person = (None,) * len(PERSON_COLUMNS)
    empty_value = (None,) * len(CUSTOM_COLUMNS)
    out: list[Recipient] = []
    for row in rows:
        custom: tuple[Any, ...] = ()
        for _key, field_id in fields:
            custom += values.get((row[1] or 0, field_id), empty_value)
        out.append((*row, *people.get(row[1] or 0, empty_person), *custom))
    return out


def renew(blast_id: int, token: str, variant: str, expected: int) -> bool:
    """Extend the lease of these `sending` rows, if they are all still ours (not taken back by
    the sweeper after the lease ran out)."""
    renewed = Delivery.objects.filter(
        blast_id=blast_id,
        status=S.SENDING,
        claimed_by=token,
        variant=variant,
        claimed_until__gt=timezone.now(),
    ).update(claimed_until=lease_until())
    return renewed == expected


# --- recording ---------------------------------------------------------------------------------

RECORD_SENT_SQL = """
WITH sent AS (
    UPDATE messaging_delivery SET status = %s, sent_at = %s, provider_id = %s,
           claimed_until = NULL
    WHERE blast_id = %s AND status = %s AND claimed_by = %s AND variant = %s
    RETURNING id, person_id
)
INSERT INTO crm_action (person_id, campaign_id, type, occurred_at, source, data)
SELECT person_id, %s, %s, %s, %s, jsonb_build_object('blast_id', %s::bigint, 'delivery_id', id)
FROM sent WHERE person_id IS NOT NULL
"""


def timeline_kind(blast: Blast) -> str:
    return ActionType.EMAIL_SENT if blast.channel == Channel.EMAIL else ActionType.SMS_SENT


def record_sent(
    blast: Blast, token: str, variant: str, rows: Sequence[Row], provider_id: str
) -> None:
    """The batch's rows `sent`, each with one EMAIL_SENT / SMS_SENT action on the person's
    timeline, together."""
    now = timezone.now()
    provider_id = provider_id[:100]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                RECORD_SENT_SQL,
                [S.SENT, now, provider_id, blast.pk, S.SENDING, token, variant,
                 blast.campaign_id, timeline_kind(blast), now, blast.name[:500], blast.pk],
            )  # fmt: skip
        return
    with transaction.atomic():
        ids = set(
            Delivery.objects.filter(
                blast_id=blast.pk, status=S.SENDING, claimed_by=token, variant=variant
            ).values_list("id", flat=True)
        )
        timeline(blast, [r for r in rows if r[0] in ids], now)
        Delivery.objects.filter(pk__in=ids).update(
            status=S.SENT, sent_at=now, provider_id=provider_id, claimed_until=None
        )


def timeline(blast: Blast, rows: Sequence[Row], now: dt.datetime) -> None:
    """One EMAIL_SENT / SMS_SENT action per recipient, in one statement."""
    kind = timeline_kind(blast)
    Action.objects.bulk_create(
        [
            Action(
                person_id=person_id,
                campaign_id=blast.campaign_id,
                type=kind,
                occurred_at=now,
                source=blast.name[:500],
                data={"blast_id": blast.pk, "delivery_id": delivery_id},
            )
            for delivery_id, person_id, *_rest in rows
            if person_id is not None
        ]
    )
