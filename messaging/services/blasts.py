"""Blast state changes: each takes the acting user, checks access, runs in a transaction and
writes an audit event. Views, tasks and commands call these and nothing else."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from cocarde.tenancy.permissions import Capability, can
from crm.models import Channel, Person
from messaging import transports
from messaging.models import Blast, Delivery, Variant
from messaging.services import audience, pipeline, render, silence

S = Delivery.Status


def require(actor: Any, campaign_id: int) -> None:
    if actor is not None and not can(actor, Capability.SEND_MESSAGES, campaign_id):
        raise PermissionDenied


def _enqueue_runners(blast_id: int, count: int = 2) -> None:
    from messaging.tasks import bulk_run_blast

    def enqueue() -> None:
        for _index in range(count):
            bulk_run_blast.delay(blast_id)

    transaction.on_commit(enqueue)


def silence_error(blast: Blast, moment: dt.datetime) -> ValidationError | None:
    if blast.transactional:
        return None
    window = silence.silence_at(blast.campaign, moment)
    if window is None:
        return None
    return ValidationError(
        _(
            "Electoral silence (Code électoral, art. L49): no political message may be sent "
            "from %(start)s until the polls close at %(end)s (round of %(round)s)."
        )
        % {
            "start": date_format(timezone.localtime(window.starts), "DATETIME_FORMAT"),
            "end": date_format(timezone.localtime(window.ends), "DATETIME_FORMAT"),
            "round": date_format(window.round_date, "DATE_FORMAT"),
        }
    )


def check_ready(blast: Blast) -> None:
    problems = []
    if blast.segment_id is None:
        problems.append(_("Choose an audience segment."))
    elif blast.segment.campaign_id != blast.campaign_id:  # type: ignore[union-attr]
        problems.append(_("The segment belongs to another campaign."))
    if blast.channel == Channel.EMAIL:
        if not blast.subject.strip():
            problems.append(_("Write a subject."))
        if not blast.blocks:
            problems.append(_("Write the content."))
    elif not blast.sms_text.strip():
        problems.append(_("Write the SMS text."))
    try:
        render.validate_blocks(blast.blocks)
        render.check_merge_fields(
            blast.subject + " " + blast.sms_text + str(blast.blocks), _keys(blast)
        )
    except render.ContentError as error:
        problems.append(str(error))
    if problems:
        raise ValidationError(problems)


def _keys(blast: Blast) -> list[str]:
    from crm.models import CustomField

    return list(
        CustomField.objects.filter(
            Q(campaign__isnull=True) | Q(campaign_id=blast.campaign_id)
        ).values_list("key", flat=True)
    )


@transaction.atomic
def save_blast(blast: Blast, *, actor: Any) -> Blast:
    require(actor, blast.campaign_id)
    if (
        blast.pk
        and not Blast.objects.filter(
            pk=blast.pk, status__in=[Blast.Status.DRAFT, Blast.Status.SCHEDULED]
        ).exists()
    ):
        raise ValidationError(_("A blast that has started can no longer be changed."))
    render.validate_blocks(blast.blocks)
    created = blast.pk is None
    if created and getattr(actor, "is_authenticated", False):
        blast.created_by = actor
    blast.save()
    record_event(
        "messaging.blast.create" if created else "messaging.blast.update",
        actor=actor,
        campaign=blast.campaign,
        target=blast,
    )
    return blast


@transaction.atomic
def schedule_blast(blast: Blast, when: dt.datetime, *, actor: Any) -> Blast:
    require(actor, blast.campaign_id)
    check_ready(blast)
    if when <= timezone.now():
        raise ValidationError(_("Choose a time in the future, or send now."))
    error = silence_error(blast, when)
    if error is not None:
        raise error
    updated = Blast.objects.filter(
        pk=blast.pk, status__in=[Blast.Status.DRAFT, Blast.Status.SCHEDULED]
    ).update(status=Blast.Status.SCHEDULED, scheduled_at=when)
    if not updated:
        raise ValidationError(_("This blast has already started."))
    blast.refresh_from_db()
    record_event(
        "messaging.blast.schedule",
        actor=actor,
        campaign=blast.campaign,
        target=blast,
        data={"at": when.isoformat()},
    )
    return blast


def start_blast(blast_id: int, *, actor: Any = None, runners: int = 2) -> bool:
    """Snapshot the audience and start sending. Only one caller ever wins: the status moves
    from draft/scheduled to sending in one conditional UPDATE, in the snapshot's transaction."""
    with transaction.atomic():
        blast = Blast.objects.select_related("campaign", "segment").get(pk=blast_id)
        require(actor, blast.campaign_id)
        check_ready(blast)
        error = silence_error(blast, timezone.now())
        if error is not None:
            raise error
        won = Blast.objects.filter(
            pk=blast_id, status__in=[Blast.Status.DRAFT, Blast.Status.SCHEDULED]
        ).update(status=Blast.Status.SENDING, started_at=timezone.now(), hold_reason="")
        if not won:
            return False
        written = audience.snapshot(blast)
        if written > 10_000 and connection.vendor == "postgresql":
            # A large audience just landed: fresh statistics keep the claim plans on the index.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE messaging_delivery")
        _assign_variants(blast)
        Blast.objects.filter(pk=blast_id).update(snapshot_count=written)
        record_event(
            "messaging.blast.start",
            actor=actor,
            campaign=blast.campaign,
            target=blast,
            data={"recipients": written},
        )
        _enqueue_runners(blast_id, runners)
    return True


def _assign_variants(blast: Blast) -> None:
    keys = list(blast.variants.order_by("key").values_list("key", flat=True))
    if blast.ab_sample_percent <= 0 or len(keys) < 2:
        return
    ids = list(Delivery.objects.filter(blast=blast).values_list("id", flat=True))
    size = max(len(keys), len(ids) * blast.ab_sample_percent // 100)
    sample = random.SystemRandom().sample(ids, min(size, len(ids)))
    for index, key in enumerate(keys):
        Delivery.objects.filter(pk__in=sample[index :: len(keys)]).update(variant=key)
    Delivery.objects.filter(blast=blast, variant="").update(status=S.HELD)


def _transition(
    blast: Blast,
    *,
    actor: Any,
    frm: list[str],
    to: str,
    action: str,
    then: Callable[[], None] | None = None,
) -> Blast:
    require(actor, blast.campaign_id)
    with transaction.atomic():
        if not Blast.objects.filter(pk=blast.pk, status__in=frm).update(status=to):
            raise ValidationError(_("This blast cannot do that now."))
        if then is not None:
            then()
        record_event(action, actor=actor, campaign=blast.campaign, target=blast)
    blast.refresh_from_db()
    return blast


def pause_blast(blast: Blast, *, actor: Any) -> Blast:
    """Workers stop before their next chunk; rows already handed to the provider finish."""
    return _transition(
        blast,
        actor=actor,
        frm=[Blast.Status.SENDING],
        to=Blast.Status.PAUSED,
        action="messaging.blast.pause",
    )


def resume_blast(blast: Blast, *, actor: Any) -> Blast:
    error = silence_error(blast, timezone.now())
    if error is not None:
        raise error
    return _transition(
        blast,
        actor=actor,
        frm=[Blast.Status.PAUSED],
        to=Blast.Status.SENDING,
        action="messaging.blast.resume",
        then=lambda: _enqueue_runners(blast.pk),
    )


def cancel_blast(blast: Blast, *, actor: Any) -> Blast:
    def cancel_rows() -> None:
        Delivery.objects.filter(blast=blast, status__in=[S.QUEUED, S.HELD]).update(
            status=S.CANCELLED
        )

    return _transition(
        blast,
        actor=actor,
        frm=[Blast.Status.DRAFT, Blast.Status.SCHEDULED, Blast.Status.SENDING, Blast.Status.PAUSED],
        to=Blast.Status.CANCELLED,
        action="messaging.blast.cancel",
        then=cancel_rows,
    )


# --- preview and test send ----------------------------------------------------------------------


def preview(blast: Blast, person: Person | None = None, variant: str = "") -> dict[str, str]:
    """The message as `person` would get it (their merge values; links are examples)."""
    ctx = pipeline.context_for(blast)
    compiled = ctx.template(variant)
    data = (
        pipeline.recipient_data(ctx, [(0, person.pk, "", variant)])[0]
        if person is not None
        else {"origin": blast.campaign.name, "unsubscribe_url": "#", "preferences_url": "#"}
    )
    subject, html, text = compiled.render(compiled.values(data))
    return {"subject": subject, "html": html, "text": text}


def test_send(
    blast: Blast, *, to: str, actor: Any, person: Person | None = None
) -> transports.Outcome:
    """Send one copy to a staff address, through the real provider, marked as a test."""
    require(actor, blast.campaign_id)
    check_ready(blast)
    message = preview(blast, person)
    ctx = pipeline.context_for(blast)
    if blast.channel == Channel.EMAIL:
        compiled = render.Compiled(
            subject=[_("[TEST]") + " " + message["subject"]],
            html=[message["html"]],
            text=[message["text"]],
        )
        outcome = transports.send_email_batch(
            transports.EmailBatch(
                campaign_id=blast.campaign_id,
                blast_id=blast.pk,
                from_email=ctx.from_email,
                reply_to=ctx.sender.reply_to if ctx.sender else "",
                compiled=compiled,
                recipients=[transports.EmailRecipient(delivery_id=0, address=to, values=[])],
                is_test=True,
            )
        )
    else:
        outcome = transports.send_sms(
            transports.Sms(
                campaign_id=blast.campaign_id,
                delivery_id=None,
                to=to,
                body=message["text"],
                sender=ctx.sender.sms_sender if ctx.sender else "",
                is_test=True,
            )
        )
    record_event(
        "messaging.blast.test_send",
        actor=actor,
        campaign=blast.campaign,
        target=blast,
        data={"outcome": outcome.status},
    )
    return outcome


# --- A/B ----------------------------------------------------------------------------------------


def decide_ab(blast: Blast, *, now: dt.datetime | None = None) -> str | None:
    """After the wait, the best variant by the chosen metric goes to the held rows."""
    now = now or timezone.now()
    if blast.ab_decided_at or blast.status != Blast.Status.SENDING or blast.started_at is None:
        return None
    if now < blast.started_at + dt.timedelta(minutes=blast.ab_wait_minutes):
        return None
    rates = variant_stats(blast)
    if not rates:
        return None
    metric = "opened" if blast.ab_metric == Blast.Metric.OPENS else "clicked"
    winner = max(
        rates, key=lambda r: (r[metric] / r["sent"] if r["sent"] else 0.0, -ord(r["variant"][0]))
    )["variant"]
    with transaction.atomic():
        if not Blast.objects.filter(pk=blast.pk, ab_decided_at__isnull=True).update(
            ab_decided_at=now, ab_winner=winner
        ):
            return None
        Delivery.objects.filter(blast=blast, status=S.HELD).update(status=S.QUEUED, variant=winner)
        record_event(
            "messaging.blast.ab_winner",
            actor=None,
            campaign=blast.campaign,
            target=blast,
            data={"winner": winner, "metric": blast.ab_metric},
        )
        _enqueue_runners(blast.pk)
    return winner


# --- statistics ---------------------------------------------------------------------------------

SENT_STATES = [S.SENT, S.DELIVERED, S.BOUNCED]


def _counts() -> dict[str, Any]:
    return {
        "total": Count("id"),
        "sent": Count("id", filter=Q(status__in=SENT_STATES)),
        "delivered": Count("id", filter=Q(delivered_at__isnull=False)),
        "bounced": Count("id", filter=Q(bounced_at__isnull=False)),
        "opened": Count("id", filter=Q(opened_at__isnull=False)),
        "clicked": Count("id", filter=Q(clicked_at__isnull=False)),
        "unsubscribed": Count("id", filter=Q(unsubscribed_at__isnull=False)),
        "complained": Count("id", filter=Q(complained_at__isnull=False)),
        "suppressed": Count("id", filter=Q(status=S.SUPPRESSED)),
        "failed": Count("id", filter=Q(status=S.FAILED)),
        "waiting": Count("id", filter=Q(status__in=[S.QUEUED, S.CLAIMED, S.HELD])),
        "in_flight": Count("id", filter=Q(status__in=[S.SENDING, S.UNKNOWN])),
    }


def blast_stats(blast: Blast) -> dict[str, int]:
    return Delivery.objects.filter(blast=blast).aggregate(**_counts())


def variant_stats(blast: Blast) -> list[dict[str, Any]]:
    rows: Any = (
        Delivery.objects.filter(blast=blast)
        .exclude(variant="")
        .values("variant")
        .annotate(**_counts())
        .order_by("variant")
    )
    return list(rows)


def add_variant(blast: Blast, key: str, *, actor: Any, **fields: Any) -> Variant:
    require(actor, blast.campaign_id)
    variant, _created = Variant.objects.update_or_create(blast=blast, key=key, defaults=fields)
    return variant
