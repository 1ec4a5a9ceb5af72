"""The sending pipeline: take a chunk (checked again), hand it to the provider, record it.

Each delivery row moves `queued → sending → sent`, every step one statement over the whole
chunk (messaging/services/claiming.py):

- sending: taken with SELECT … FOR UPDATE SKIP LOCKED by one worker, with a lease, and checked
  again in the same statement (suppressions, consent, address): the refused rows become
  `suppressed`, the others `sending`, committed before the provider call. A crash or a timeout
  from here on leaves the outcome unknown: the rows become `unknown` and are reconciled with
  the provider's events (SendGrid emits `processed` for every message it accepted; Twilio
  calls back per message), never resent blindly.
- sent: after the provider accepted the batch, with the timeline actions, in one statement.

A 429 or 5xx puts the chunk back in the queue and pauses every worker for the provider
(Retry-After, else exponential backoff) through the shared cache.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from crm.models import Channel
from messaging import transports
from messaging.models import (
    OPEN_STATUSES,
    Blast,
    Delivery,
    MessagingSettings,
    OutboxMessage,
    SenderIdentity,
)
from messaging.services import claiming, render, silence
from messaging.services.claiming import Recipient, Row, claim, mark  # noqa: F401 (claim: API)
from messaging.services.ratelimit import TokenBucket
from messaging.services.tokens import TokenMaker

log = logging.getLogger(__name__)
S = Delivery.Status
MAX_INLINE_WAIT = 30.0
SMS_CATCH_UP = 1.0  # seconds of unused sending slots made up after a pause


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- what a blast needs, computed once ----------------------------------------------------------


@dataclass
class BlastContext:
    blast: Blast
    sender: SenderIdentity | None
    rules: MessagingSettings
    compiled: dict[str, render.Compiled] = field(default_factory=dict)
    tokens: TokenMaker = field(default_factory=TokenMaker)
    take_sql: tuple[str, list[Any]] | None = None  # claiming.take's statement
    taken_up_to: int = 0  # the last delivery id this runner took
    _fields: list[tuple[str, int]] | None = None

    @property
    def public_url(self) -> str:
        return str(settings.MESSAGING_PUBLIC_URL).rstrip("/")

    @property
    def from_email(self) -> str:
        if self.sender is None:
            return settings.DEFAULT_FROM_EMAIL
        return f"{self.sender.from_name} <{self.sender.from_email}>"

    def template(self, variant_key: str) -> render.Compiled:
        if variant_key not in self.compiled:
            self.compiled[variant_key] = compile_for(self.blast, variant_key, self.sender)
        return self.compiled[variant_key]

    def custom_fields(self) -> list[tuple[str, int]]:
        """(key, field id) of the custom fields any of the blast's templates merges."""
        if self._fields is None:
            keys: set[str] = set()
            for key in ["", *self.blast.variants.values_list("key", flat=True)]:
                keys |= self.template(key).custom_keys
            self._fields = claiming.custom_fields(self.blast, keys)
        return self._fields


def settings_for(campaign_id: int) -> MessagingSettings:
    rules, _ = MessagingSettings.objects.get_or_create(campaign_id=campaign_id)
    return rules


def compile_for(
    blast: Blast, variant_key: str = "", sender: SenderIdentity | None = None
) -> render.Compiled:
    variant = blast.variants.filter(key=variant_key).first() if variant_key else None
    if blast.channel == Channel.EMAIL:
        return render.compile_email(
            subject=(variant.subject if variant and variant.subject else blast.subject),
            blocks=(variant.blocks if variant and variant.blocks else blast.blocks),
            preheader=blast.preheader,
            campaign_name=blast.campaign.name,
        )
    sender = sender or blast.sender
    return render.compile_sms(
        variant.sms_text if variant and variant.sms_text else blast.sms_text,
        stop_by_reply=bool(sender and sender.sms_can_receive_replies),
    )


def context_for(blast: Blast) -> BlastContext:
    sender = blast.sender or (
        SenderIdentity.objects.filter(campaign_id=blast.campaign_id).order_by("-is_default").first()
    )
    return BlastContext(blast=blast, sender=sender, rules=settings_for(blast.campaign_id))


def merge_data(
    ctx: BlastContext, rows: Sequence[Recipient], fields: Sequence[tuple[str, int]]
) -> list[dict[str, str]]:
    """The merge values of each row as `claiming.take` returns it."""
    base = ctx.public_url
    campaign_name = ctx.blast.campaign.name
    data_origin = ctx.rules.data_origin
    make_token = ctx.tokens.make
    custom = [(f"custom.{key}", 10 + 4 * index) for index, (key, _id) in enumerate(fields)]
    out = []
    for row in rows:
        first_names, usage, birth, commune, bureau, source = row[4:10]
        token = make_token(row[0])
        first = (first_names or "").replace(",", " ").split()
        data = {
            "first_name": first[0] if first else "",
            "last_name": usage or birth or "",
            "commune": commune or "",
            "bureau": bureau or "",
            "origin": data_origin or (f"{source} ({campaign_name})" if source else campaign_name),
            "unsubscribe_url": f"{base}/m/u/{token}/",
            "preferences_url": f"{base}/m/p/{token}/",
        }
        for name, at in custom:
            text, number, date, boolean = row[at : at + 4]
            data[name] = text or next(
                (str(v) for v in (number, date, boolean) if v is not None), ""
            )
        out.append(data)
    return out


def recipient_data(ctx: BlastContext, rows: list[Row]) -> dict[int, dict[str, str]]:
    """Merge values per delivery id (two queries: the people, their custom fields)."""
    fields = ctx.custom_fields()
    merged = claiming.merge_rows(rows, fields)
    return {row[0]: data for row, data in zip(merged, merge_data(ctx, merged, fields), strict=True)}


# --- gates -------------------------------------------------------------------------------------


class Hold(Exception):
    """Sending must wait (electoral silence, quiet hours, provider pause)."""


def check_gates(ctx: BlastContext, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    blast = ctx.blast
    if not blast.transactional:
        window = silence.silence_at(blast.campaign, now)
        if window is not None:
            raise Hold(f"electoral silence until {window.ends.isoformat()}")
    if blast.channel == Channel.SMS and silence.in_quiet_hours(
        moment=now,
        start=ctx.rules.quiet_start,
        end=ctx.rules.quiet_end,
        sundays=ctx.rules.quiet_sundays,
        holidays=ctx.rules.quiet_holidays,
    ):
        raise Hold("SMS quiet hours")


def provider_key(channel: str) -> str:
    return f"messaging:provider-pause:{channel}"


def provider_pause_left(channel: str) -> float:
    until = cache.get(provider_key(channel))
    return max(0.0, float(until) - time.time()) if until else 0.0


def pause_provider(channel: str, seconds: float) -> None:
    until = time.time() + seconds
    cache.set(provider_key(channel), until, timeout=int(seconds) + 5)


# --- recording outcomes ------------------------------------------------------------------


def _wait_after(ctx: BlastContext, outcome: transports.Outcome) -> None:
    wait = outcome.retry_after
    if wait is None:
        attempts = cache.get_or_set(f"messaging:backoff:{ctx.blast.channel}", 0, 300) or 0
        cache.set(f"messaging:backoff:{ctx.blast.channel}", attempts + 1, 300)
        wait = min(2.0 ** min(attempts, 6), 60.0)
    pause_provider(ctx.blast.channel, wait)


def _apply_outcome(
    ctx: BlastContext, token: str, variant: str, rows: list[Row], outcome: transports.Outcome
) -> None:
    now = timezone.now()
    if outcome.status == transports.SENT:
        claiming.record_sent(ctx.blast, token, variant, rows, outcome.provider_id)
        cache.delete(f"messaging:backoff:{ctx.blast.channel}")
    elif outcome.status == transports.RETRY:
        mark(ctx.blast.pk, token, frm=S.SENDING, variant=variant, status=S.QUEUED,
              claimed_until=None, reason=outcome.error[:200])  # fmt: skip
        _wait_after(ctx, outcome)
    elif outcome.status == transports.UNKNOWN:
        grace = dt.timedelta(seconds=settings.MESSAGING_RECONCILE_AFTER_SECONDS)
        mark(ctx.blast.pk, token, frm=S.SENDING, variant=variant, status=S.UNKNOWN,
              claimed_until=now + grace, reason=outcome.error[:200])  # fmt: skip
    else:
        mark(
            ctx.blast.pk,
            token,
            frm=S.SENDING,
            variant=variant,
            status=S.FAILED,
            reason=outcome.error[:200],
        )


class InFlight:
    """At most one provider call in flight, on a helper thread with its own database
    connection, while the runner claims, checks and prepares the next chunk. The next chunk
    is handed over only once the previous call's outcome is recorded, so a 429/5xx still
    pauses it. Inline (no helper) inside a transaction, whose rows another connection could
    not see, and on SQLite."""

    def __init__(self, enabled: bool) -> None:
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="messaging-send") if enabled else None
        self.future: Future[None] | None = None

    @classmethod
    def for_runner(cls) -> InFlight:
        return cls(connection.vendor == "postgresql" and not connection.in_atomic_block)

    def start(self, call: Callable[[], None]) -> None:
        self.wait()
        if self.pool is None:
            call()
        else:
            self.future = self.pool.submit(call)

    def wait(self) -> None:
        """The call in flight finished and recorded (its error raised here)."""
        if self.future is not None:
            future, self.future = self.future, None
            future.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self.pool is not None:
                # The helper's own connection (connection resolves per thread when called).
                self.pool.submit(lambda: connection.close()).result()
                self.pool.shutdown()


def _send_and_record(
    ctx: BlastContext, token: str, key: str, group: list[Row], batch: transports.EmailBatch
) -> None:
    outcome = transports.send_email_batch(batch)
    _apply_outcome(ctx, token, key, group, outcome)


def _email_batch(
    ctx: BlastContext, key: str, group: list[Recipient], fields: Sequence[tuple[str, int]]
) -> transports.EmailBatch:
    compiled = ctx.template(key)
    recipients = []
    for row, data in zip(group, merge_data(ctx, group, fields), strict=True):
        recipients.append(
            transports.EmailRecipient(
                delivery_id=row[0],
                address=row[2],
                values=compiled.values(data),
                headers={
                    "List-Unsubscribe": f"<{data['unsubscribe_url']}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )
        )
    variant = ctx.blast.variants.filter(key=key).first() if key else None
    from_email = ctx.from_email
    if variant and variant.from_name and ctx.sender is not None:
        from_email = f"{variant.from_name} <{ctx.sender.from_email}>"
    return transports.EmailBatch(
        campaign_id=ctx.blast.campaign_id,
        blast_id=ctx.blast.pk,
        from_email=from_email,
        reply_to=ctx.sender.reply_to if ctx.sender else "",
        compiled=compiled,
        recipients=recipients,
        track_clicks=ctx.blast.track_clicks,
        track_opens=ctx.rules.open_tracking,
    )


def send_email_chunk(
    ctx: BlastContext, token: str, rows: list[Recipient], flight: InFlight | None = None
) -> None:
    """Rows `claiming.take` just moved to `sending`: one provider call per variant, each
    started once the previous call's outcome is recorded."""
    flight = flight or InFlight(enabled=False)
    renew_after = time.monotonic() + settings.MESSAGING_CLAIM_LEASE_SECONDS / 2
    by_variant: dict[str, list[Recipient]] = defaultdict(list)
    for row in rows:
        by_variant[row[3]].append(row)
    fields = ctx.custom_fields()
    keys = list(by_variant)
    for index, key in enumerate(keys):
        group = by_variant[key]
        batch = _email_batch(ctx, key, group, fields)
        flight.wait()  # the previous call's outcome first: a 429/5xx there pauses this one
        if provider_pause_left(ctx.blast.channel) > 0:
            # Another worker was just told to wait (429/5xx): give the rows not yet handed to
            # the provider back, untouched.
            for left in keys[index:]:
                mark(ctx.blast.pk, token, frm=S.SENDING, variant=left, status=S.QUEUED,
                     claimed_until=None)  # fmt: skip
            return
        if time.monotonic() > renew_after and not claiming.renew(
            ctx.blast.pk, token, key, len(group)
        ):
            # The lease ran out and the sweeper took rows back (they are `unknown` and will be
            # reconciled): this batch is not sent.
            log.warning("blast %s: lease lost before sending, chunk left", ctx.blast.pk)
            continue
        sent = [row[:4] for row in group]
        flight.start(functools.partial(_send_and_record, ctx, token, key, sent, batch))


def send_sms_chunk(ctx: BlastContext, token: str, recipients: list[Recipient]) -> None:
    """Rows `claiming.take` just moved to `sending`, each SMS paced by the shared bucket; the
    chunk is recorded in a few statements."""
    import requests

    from messaging.services.sms import sms_length

    fields = ctx.custom_fields()
    data = {
        row[0]: values
        for row, values in zip(recipients, merge_data(ctx, recipients, fields), strict=True)
    }
    rows: list[Row] = [row[:4] for row in recipients]
    # Every worker pauses between chunks (record, take the next): up to a second of slots left
    # unused then is made up, so the sender's rate holds on average, bursts staying small.
    bucket = TokenBucket(
        f"sms:{ctx.blast.campaign_id}", rate=ctx.rules.sms_per_second, catch_up=SMS_CATCH_UP
    )
    sender = ctx.sender.sms_sender if ctx.sender else ""
    results: list[tuple[Row, transports.Outcome, int]] = []
    with requests.Session() as session:
        for row in rows:
            compiled = ctx.template(row[3])
            body = compiled.render(compiled.values(data[row[0]]))[2]
            bucket.acquire()
            outcome = transports.send_sms(
                transports.Sms(ctx.blast.campaign_id, row[0], row[2], body, sender), session
            )
            results.append((row, outcome, sms_length(body).segments))
            if outcome.status == transports.RETRY:
                break  # the provider asked us to wait: the rest goes back to the queue
    now = timezone.now()
    grace = now + dt.timedelta(seconds=settings.MESSAGING_RECONCILE_AFTER_SECONDS)
    updates = []
    for row, outcome, segments in results:
        delivery = Delivery(pk=row[0], claimed_until=None, sms_segments=segments)
        delivery.status, delivery.reason = {
            transports.SENT: (S.SENT, ""),
            transports.RETRY: (S.QUEUED, outcome.error[:200]),
            transports.UNKNOWN: (S.UNKNOWN, outcome.error[:200]),
            transports.FAILED: (S.FAILED, outcome.error[:200]),
        }[outcome.status]
        delivery.sent_at = now if outcome.status == transports.SENT else None
        delivery.provider_id = outcome.provider_id[:100]
        if outcome.status == transports.UNKNOWN:
            delivery.claimed_until = grace
        updates.append(delivery)
    with transaction.atomic():
        sent_rows = [r for r, o, _s in results if o.status == transports.SENT]
        Delivery.objects.bulk_update(
            updates,
            ["status", "reason", "sent_at", "provider_id", "claimed_until", "sms_segments"],
        )
        if sent_rows:
            claiming.timeline(ctx.blast, sent_rows, now)
        Delivery.objects.filter(blast_id=ctx.blast.pk, status=S.SENDING, claimed_by=token).exclude(
            pk__in=[r[0] for r, _o, _s in results]
        ).update(status=S.QUEUED, claimed_until=None)
    last = results[-1][1] if results else None
    if last is not None and last.status == transports.RETRY:
        _wait_after(ctx, last)


# --- the runner ---------------------------------------------------------------------------------


def run_blast(blast_id: int, *, max_chunks: int | None = None) -> str:
    """Send the blast's queued rows until none is left, the blast is paused, or a gate holds.

    Any number of runners may work on one blast at once (they never claim the same rows).
    Returns why it stopped."""
    flight = InFlight.for_runner()
    try:
        return _run(blast_id, max_chunks, flight)
    finally:
        flight.close()  # nothing left in flight when the runner stops


def _run(blast_id: int, max_chunks: int | None, flight: InFlight) -> str:
    worker = worker_id()
    chunks = 0
    ctx: BlastContext | None = None
    while True:
        blast = Blast.objects.select_related("campaign", "campaign__election", "sender").get(
            pk=blast_id
        )
        if blast.status != Blast.Status.SENDING:
            return f"status {blast.status}"
        if ctx is None:
            ctx = context_for(blast)
        ctx.blast = blast
        try:
            check_gates(ctx)
        except Hold as hold:
            Blast.objects.filter(pk=blast_id).update(hold_reason=str(hold)[:300])
            return f"held: {hold}"
        if blast.hold_reason:
            Blast.objects.filter(pk=blast_id).update(hold_reason="")
        wait = provider_pause_left(blast.channel)
        if wait > 0:
            if wait > MAX_INLINE_WAIT:
                return "provider pause"
            time.sleep(wait)
            continue
        size = settings.MESSAGING_BATCH_SIZE if blast.is_email else sms_chunk(ctx)
        token, rows, taken = claiming.take(ctx, worker, size)
        if not taken:
            flight.wait()  # the last chunk recorded before the blast may finish
            finish_if_done(blast_id)
            return "done"
        if not rows:
            pass  # every row taken was refused (now `suppressed`)
        elif blast.is_email:
            send_email_chunk(ctx, token, rows, flight)
        else:
            send_sms_chunk(ctx, token, rows)
        chunks += 1
        if max_chunks is not None and chunks >= max_chunks:
            return "chunk limit"


def sms_chunk(ctx: BlastContext) -> int:
    """About half a second of sending: what a worker holds, and what may be unknown after a
    crash; small enough that several workers share a blast evenly."""
    return max(1, min(200, ctx.rules.sms_per_second // 2))


OPEN_STATES = OPEN_STATUSES


def finish_if_done(blast_id: int) -> bool:
    """Sent once no row is waiting, in flight or unreconciled."""
    if Delivery.objects.filter(blast_id=blast_id, status__in=OPEN_STATES).exists():
        return False
    return bool(
        Blast.objects.filter(pk=blast_id, status=Blast.Status.SENDING).update(
            status=Blast.Status.SENT, finished_at=timezone.now(), hold_reason=""
        )
    )


def recover(now: dt.datetime | None = None) -> dict[str, int]:
    """Take back what crashed workers held: expired claims are queued again; rows caught in
    `sending` become `unknown`. Unknown rows whose grace passed: with the outbox (our own
    table is the provider's record) those it holds are sent and the others queued again;
    without any provider event, they are queued again when the provider reports every
    accepted message (Anymail ESPs, Twilio), else marked failed (never resent blindly)."""
    now = now or timezone.now()
    grace = dt.timedelta(seconds=settings.MESSAGING_RECONCILE_AFTER_SECONDS)
    requeued = Delivery.objects.filter(status=S.CLAIMED, claimed_until__lt=now).update(
        status=S.QUEUED, claimed_until=None, claimed_by=""
    )
    unknown = Delivery.objects.filter(status=S.SENDING, claimed_until__lt=now).update(
        status=S.UNKNOWN, claimed_until=now + grace, reason="worker lost while sending"
    )
    stale = Delivery.objects.filter(status=S.UNKNOWN, claimed_until__lt=now)
    reconciled = resent = failed = 0
    for channel in (Channel.EMAIL, Channel.SMS):
        rows = stale.filter(blast__channel=channel)
        if transports.is_outbox(channel):
            in_outbox = Exists(OutboxMessage.objects.filter(delivery=OuterRef("pk")))
            reconciled += rows.filter(in_outbox).update(
                status=S.SENT, sent_at=now, claimed_until=None, reason="reconciled: in the outbox"
            )
        if transports.reports_every_message(channel) or transports.is_outbox(channel):
            resent += rows.update(
                status=S.QUEUED, claimed_until=None, claimed_by="", reason="no provider record"
            )
        else:
            failed += rows.update(status=S.FAILED, reason="outcome unknown: not resent")
    return {
        "requeued": requeued,
        "unknown": unknown,
        "reconciled": reconciled,
        "resent": resent,
        "failed": failed,
    }
