"""A blast end to end against what its two halves cost on their own.

    .venv/bin/python bench/blast.py [--size N] [--sms N] [--sms-rate R]

In a scratch database: N people (default 100,000) with an email, consent and a custom field, in
a static list. One email blast (HTML template with 5 merge fields, 3 links and the unsubscribe
link) is snapshotted and sent by our pipeline (`start_blast` + `run_blast`, one runner, in this
process) through django-anymail's SendGrid backend to a local HTTP server, in another process,
that implements SendGrid's v3 mail/send (202 for up to 1,000 personalisations).

Baselines in the same run, on the same people:
- R: a render-only loop (the compiled template rendered for each recipient, data in memory);
- T: a raw HTTP client posting pre-built payloads (1,000 personalisations each) to the server.

The database floor, in the same run: the least database work the rules ask of each recipient
(snapshot row, chunk taken under lock with the suppression check repeated, row marked sent,
timeline action), as raw SQL with nothing else, for a copy of the blast; its rate against
min(R, T) bounds what any pipeline writing those rows could reach.

Then SMS pacing: a blast of S messages paced at R/s to a local Twilio-like server; the rate the
server saw against the configured one.

Last stdout line: {"bench", "recipients", "per_second", "vs_render_or_transport",
"db_writes_per_100", "sms_rate_error", ...}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_setup, free_port, scratch_database


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the local providers (another process, so they do not share our interpreter) --------------


def serve(port: int) -> None:
    state: dict[str, Any] = {"emails": 0, "requests": 0, "sms": []}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Message-Id", "bench")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            with lock:
                self._answer(200, json.dumps(state).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.endswith("/mail/send"):
                count = len(json.loads(body)["personalizations"])
                if count > 1000:
                    return self._answer(400, b'{"errors":[{"message":"too many"}]}')
                with lock:
                    state["emails"] += count
                    state["requests"] += 1
                return self._answer(202, b"")
            with lock:
                state["sms"].append(time.time())
            return self._answer(201, json.dumps({"sid": f"SM{len(state['sms'])}"}).encode())

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.serve_forever()


def provider_state(base: str) -> dict[str, Any]:
    import requests

    return dict(requests.get(base + "/stats", timeout=10).json())


# --- data ----------------------------------------------------------------------------------------


def make_people(size: int) -> tuple[Any, Any]:
    from django.utils import timezone

    from cocarde.tenancy.models import Campaign
    from crm.models import (
        CampaignAttachment,
        Consent,
        CustomField,
        CustomFieldValue,
        EmailAddress,
        Person,
        Segment,
        SegmentMember,
    )
    from crm.services.consent import consent_text_for
    from crm.services.people import suppression_key_for

    campaign = Campaign.objects.create(name="Bench 2027", slug="bench-2027")
    text = consent_text_for(campaign, "news", "J'accepte de recevoir des nouvelles.")
    field = CustomField.objects.create(campaign=campaign, key="adhesion", label="Adhésion")
    segment = Segment.objects.create(campaign=campaign, name="Tous", kind=Segment.Kind.STATIC)
    now = timezone.now()
    step = 10_000
    for start in range(0, size, step):
        people = Person.objects.bulk_create(
            [
                Person(
                    first_names=f"Camille{i}",
                    birth_name=f"Martin{i}",
                    commune_name="Villeneuve-sur-Loir",
                    polling_station_code=f"{i % 12 + 1:04d}",
                    first_source="pétition",
                )
                for i in range(start, min(size, start + step))
            ]
        )
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(
                    person=p,
                    email=f"camille{p.pk}@example.org",
                    is_primary=True,
                    suppression_key=suppression_key_for("email", f"camille{p.pk}@example.org"),
                )
                for p in people
            ]
        )
        CampaignAttachment.objects.bulk_create(
            [CampaignAttachment(person=p, campaign=campaign, reason="site") for p in people]
        )
        Consent.objects.bulk_create(
            [
                Consent(
                    person=p,
                    campaign=campaign,
                    channel="email",
                    purpose="news",
                    text=text,
                    given_at=now,
                    source_kind="web",
                )  # fmt: skip
                for p in people
            ]
        )
        CustomFieldValue.objects.bulk_create(
            [CustomFieldValue(person=p, field=field, value_text="2019") for p in people]
        )
        SegmentMember.objects.bulk_create(
            [SegmentMember(segment=segment, person=p) for p in people]
        )
        log(f"  people: {start + len(people)}")
    return campaign, segment


BLOCKS = [
    {
        "type": "text",
        "text": "Bonjour {{ first_name | ami }} {{ last_name }},\n\n"
        "Rendez-vous à {{ commune }}, bureau {{ bureau }}. Merci pour votre adhésion "
        "depuis {{ custom.adhesion | longtemps }}.",
    },
    {"type": "button", "label": "Agir", "url": "https://bench2027.fr/agir"},
    {"type": "quote", "text": "Ensemble.", "author": "Camille"},
    {"type": "button", "label": "Le programme", "url": "https://bench2027.fr/programme"},
    {
        "type": "donation",
        "text": "Soutenez-nous.",
        "label": "Donner",
        "url": "https://bench2027.fr/don",
    },
]


# --- measures ------------------------------------------------------------------------------------


WRITING = ("INSERT INTO", "UPDATE ", "DELETE FROM")


class WriteCounter:
    """Counts writing statements on this thread's connection and on any connection opened
    meanwhile (the runner's helper thread records outcomes on its own connection)."""

    def __init__(self) -> None:
        self.writes = 0
        self.lock = threading.Lock()

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        head = sql.lstrip()[:6].upper()
        # A WITH statement writes when one of its parts does (UPDATE … RETURNING in a CTE).
        if head in ("INSERT", "UPDATE", "DELETE") or (
            head.startswith("WITH") and any(w in sql.upper() for w in WRITING)
        ):
            with self.lock:
                self.writes += 1
        return execute(sql, params, many, context)

    def on_new_connection(self, sender: Any, connection: Any, **kwargs: Any) -> None:
        connection.execute_wrappers.append(self)


def run_ours(campaign: Any, segment: Any) -> tuple[float, int, int]:
    from django.db import connection
    from django.db.backends.signals import connection_created

    from messaging.models import Blast, SenderIdentity
    from messaging.services import blasts, pipeline

    sender = SenderIdentity.objects.create(
        campaign=campaign, from_name="Bench", from_email="bench@bench2027.fr"
    )
    blast = Blast.objects.create(
        campaign=campaign, name="Bench", segment=segment, sender=sender,
        subject="Bonjour {{ first_name | ami }}", blocks=BLOCKS, track_clicks=True,
    )  # fmt: skip
    counter = WriteCounter()
    connection_created.connect(counter.on_new_connection)
    started = time.perf_counter()
    try:
        with connection.execute_wrapper(counter):
            blasts.start_blast(blast.pk, runners=0)
            stopped = pipeline.run_blast(blast.pk)
    finally:
        connection_created.disconnect(counter.on_new_connection)
    elapsed = time.perf_counter() - started
    blast.refresh_from_db()
    assert blast.status == Blast.Status.SENT, stopped
    return elapsed, counter.writes, blast.pk


def run_render(blast_id: int) -> float:
    from messaging.models import Blast, Delivery
    from messaging.services import pipeline

    blast = Blast.objects.select_related("campaign").get(pk=blast_id)
    ctx = pipeline.context_for(blast)
    compiled = ctx.template("")
    rows = list(
        Delivery.objects.filter(blast=blast).values_list("id", "person_id", "address", "variant")
    )
    data = pipeline.recipient_data(ctx, rows)
    started = time.perf_counter()
    for delivery_id, *_rest in rows:
        compiled.render(compiled.values(data[delivery_id]))
    return time.perf_counter() - started


def run_transport(url: str, size: int) -> float:
    import requests

    personalization = {
        "to": [{"email": "x@example.org"}],
        "substitutions": {f"%%h{i}%%": "Camille" for i in range(8)},
        "headers": {"List-Unsubscribe": "<https://bench2027.fr/m/u/abc-0123456789abcdef/>"},
        "custom_args": {"cocarde_delivery": "1"},
    }
    payloads = []
    for start in range(0, size, 1000):
        count = min(1000, size - start)
        payloads.append(
            json.dumps(
                {
                    "personalizations": [personalization] * count,
                    "from": {"email": "bench@bench2027.fr"},
                    "subject": "Bonjour %%t0%%",
                    "content": [{"type": "text/html", "value": "<p>" + "x" * 4000 + "</p>"}],
                }
            ).encode()
        )
    session = requests.Session()
    headers = {"Authorization": "Bearer SG.bench", "Content-Type": "application/json"}
    started = time.perf_counter()
    for payload in payloads:
        response = session.post(url + "mail/send", data=payload, headers=headers, timeout=60)
        assert response.status_code == 202, response.status_code
    return time.perf_counter() - started


# The floor: the least database work the rules ask of a blast, per recipient, in raw SQL
# and nothing else (no rendering, no HTTP, no Python per recipient): the snapshot row, the chunk
# taken under lock with the suppression check repeated, the row marked sent, the timeline action.
FLOOR_SNAPSHOT = """
INSERT INTO messaging_delivery (blast_id, person_id, address, variant, status, reason, attempts,
                                claimed_by, provider_id, created_at)
SELECT %(blast)s, m.person_id, e.email, '', 'queued', '', 0, '', '', now()
FROM crm_segmentmember m JOIN crm_emailaddress e ON e.person_id = m.person_id AND e.is_primary
WHERE m.segment_id = %(segment)s AND NOT EXISTS (
    SELECT 1 FROM crm_suppression s WHERE s.key_hash = e.suppression_key AND s.channel = 'email')
"""
FLOOR_TAKE = """
WITH picked AS (
    SELECT id FROM messaging_delivery
    WHERE blast_id = %(blast)s AND status = 'queued' AND id > %(after)s
    ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED
)
UPDATE messaging_delivery d SET attempts = d.attempts + 1, status = CASE WHEN EXISTS (
    SELECT 1 FROM crm_suppression s JOIN crm_emailaddress e ON s.key_hash = e.suppression_key
    WHERE e.email = d.address AND s.channel = 'email') THEN 'suppressed' ELSE 'sending' END
WHERE d.id = ANY (ARRAY(SELECT id FROM picked))
RETURNING d.id, d.person_id
"""
FLOOR_SENT = """
UPDATE messaging_delivery SET status = 'sent', provider_id = 'sg-' || id, sent_at = now()
WHERE id = ANY(%(ids)s)
"""
FLOOR_TIMELINE = """
INSERT INTO crm_action (type, occurred_at, source, data, campaign_id, person_id)
SELECT 'email_sent', now(), '', jsonb_build_object('blast_id', %(blast)s), %(campaign)s, person
FROM unnest(%(people)s::bigint[]) AS person
"""


def run_db_floor(blast_id: int) -> float:
    """Seconds the floor takes for a copy of the measured blast (same segment, same people)."""
    from django.db import connection, transaction

    from messaging.models import Blast

    blast = Blast.objects.get(pk=blast_id)
    blast.pk = None
    blast.name = "Floor"
    blast.save()
    params = {"blast": blast.pk, "segment": blast.segment_id, "campaign": blast.campaign_id}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SNAPSHOT, params)
        after = 0
        while True:
            with transaction.atomic():
                cursor.execute(FLOOR_TAKE, {**params, "after": after})
                taken = sorted(cursor.fetchall())
            if not taken:
                break
            after = taken[-1][0]
            with transaction.atomic():
                cursor.execute(FLOOR_SENT, {"ids": [row[0] for row in taken]})
                cursor.execute(FLOOR_TIMELINE, {**params, "people": [row[1] for row in taken]})
    return time.perf_counter() - started


def run_sms(campaign: Any, count: int, rate: int, base: str, workers: int) -> float:
    import datetime as dt

    from crm.models import Consent, PhoneNumber, Segment, SegmentMember
    from crm.services.people import suppression_key_for
    from messaging.models import Blast, MessagingSettings
    from messaging.services import blasts, pipeline

    members = list(
        SegmentMember.objects.filter(segment__campaign=campaign).values_list(
            "person_id", flat=True
        )[:count]
    )
    PhoneNumber.objects.bulk_create(
        [
            PhoneNumber(
                person_id=pid,
                e164=f"+3361{i:07d}",
                kind="mobile",
                is_primary=True,
                suppression_key=suppression_key_for("phone", f"+3361{i:07d}"),
            )  # fmt: skip
            for i, pid in enumerate(members)
        ]
    )
    text = Consent.objects.filter(campaign=campaign).first().text  # type: ignore[union-attr]
    Consent.objects.bulk_create(
        [
            Consent(
                person_id=pid,
                campaign=campaign,
                channel="sms",
                purpose="news",
                text=text,
                given_at=text.created_at,
                source_kind="web",
            )  # fmt: skip
            for pid in members
        ]
    )
    segment = Segment.objects.create(campaign=campaign, name="SMS", kind=Segment.Kind.STATIC)
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, person_id=p) for p in members]
    )
    MessagingSettings.objects.update_or_create(
        campaign=campaign,
        defaults={
            "sms_per_second": rate, "quiet_sundays": False, "quiet_holidays": False,
            "quiet_start": dt.time(0), "quiet_end": dt.time(0),
        },
    )  # fmt: skip
    blast = Blast.objects.create(
        campaign=campaign, name="SMS bench", channel="sms", segment=segment,
        sms_text="Bonjour {{ first_name }}, rendez-vous samedi.",
    )  # fmt: skip
    from django.core.cache import cache

    cache.clear()
    blasts.start_blast(blast.pk, runners=0)
    from django.db import connection

    def runner() -> None:
        try:
            pipeline.run_blast(blast.pk)
        finally:
            connection.close()

    # Several runners, as several Celery workers would: the Redis bucket paces them together.
    threads = [threading.Thread(target=runner) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = sorted(provider_state(base)["sms"])
    assert len(times) == count, (len(times), count)
    seen = (len(times) - 1) / (times[-1] - times[0])
    log(f"  SMS: {seen:.1f}/s for {rate}/s configured, {workers} runners")
    return abs(seen - rate) / rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--sms", type=int, default=500)
    parser.add_argument("--sms-rate", type=int, default=100)
    parser.add_argument("--sms-workers", type=int, default=4)
    args = parser.parse_args()
    django_setup()
    from django.conf import settings

    port = free_port()
    server = multiprocessing.get_context("fork").Process(target=serve, args=(port,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{port}"
    url = base + "/v3/"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    settings.MESSAGING_EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "SENDGRID_API_URL": url, "SENDGRID_API_KEY": "SG.bench"}
    settings.MESSAGING_SMS_BACKEND = "twilio"
    settings.TWILIO_API_URL = base
    settings.TWILIO_ACCOUNT_SID = "ACbench"
    settings.TWILIO_AUTH_TOKEN = "bench"  # noqa: S105
    settings.MESSAGING_BATCH_SIZE = 1000
    try:
        with scratch_database():
            log(f"generating {args.size} people…")
            campaign, segment = make_people(args.size)
            from django.db import connection

            with connection.cursor() as cursor:  # as autovacuum would have, on a real database
                cursor.execute("ANALYZE")
            log("ours: snapshot + send…")
            ours, writes, blast_id = run_ours(campaign, segment)
            received = provider_state(base)["emails"]
            assert received == args.size, (received, args.size)
            log(f"  ours {ours:.2f}s, {writes} writes")
            render_s = run_render(blast_id)
            log(f"  R (render only) {render_s:.2f}s")
            transport_s = run_transport(url, args.size)
            log(f"  T (raw HTTP) {transport_s:.2f}s")
            floor_s = run_db_floor(blast_id)
            log(f"  database floor {floor_s:.2f}s")
            sms_error = run_sms(
                campaign, min(args.sms, args.size), args.sms_rate, base, args.sms_workers
            )
    finally:
        server.terminate()
    per_second = args.size / ours
    slowest_baseline = min(args.size / render_s, args.size / transport_s)
    print(
        json.dumps(
            {
                "bench": "blast",
                "recipients": args.size,
                "per_second": round(per_second, 1),
                "vs_render_or_transport": round(per_second / slowest_baseline, 3),
                "db_writes_per_100": round(writes * 100 / args.size, 3),
                "sms_rate_error": round(sms_error, 4),
                "render_per_second": round(args.size / render_s, 1),
                "transport_per_second": round(args.size / transport_s, 1),
                "sms_rate": args.sms_rate,
                "db_floor_per_second": round(args.size / floor_s, 1),
                "db_floor_vs_render_or_transport": round(args.size / floor_s / slowest_baseline, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
