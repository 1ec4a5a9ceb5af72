"""Benchmark: signed Stripe events replayed at the webhook endpoint (10 % duplicates, shuffled),
against a view that only verifies the signature, through the same server in the same run.

    .venv/bin/python bench/webhooks.py [--size N] [--concurrency C]

In a scratch database: one funded campaign, N donation attempts, N signed
`payment_intent.succeeded` events plus 10 % duplicates, shuffled. gunicorn serves Cocarde with
the production configuration (platform/gunicorn.conf.py: gthread workers) plus the baseline view
(bench/webhook_app.py); both views receive the same deliveries, C at a time (Stripe sends
events concurrently: the headline figure) and one at a time, taking turns on fifths of them.
Our endpoint verifies, stores the event durably (one INSERT, committed before the 200) and
queues its application; the queued events are then applied in this process and checked: one
gift per event, none twice.

Each durable commit waits for PostgreSQL's WAL flush (about 3 ms on this class of virtual disk);
concurrent deliveries share flushes (group commit), one at a time they cannot, hence the two
figures. A third view, the floor, verifies the signature and commits the body with one raw
prepared INSERT: the least a durable inbox costs. Prints one JSON line: bench, events,
vs_signature_only_view (at C), sequential_vs_signature_only_view,
durable_insert_vs_signature_only_view (the floor, at C), and the raw rates.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import threading
import time
import uuid
from collections.abc import Sequence

from _setup import django_setup, gunicorn, scratch_database

WARM_UP = 400  # genuine events delivered before timing
ROUNDS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    django_setup()
    with scratch_database() as database_url:
        print(json.dumps(run(args.size, args.concurrency, database_url)))


def run(size: int, concurrency: int, database_url: str) -> dict[str, object]:
    from django.conf import settings
    from django.db import connection

    from cocarde.celery import app as celery_app
    from cocarde.tenancy.models import Campaign
    from cocarde.tenancy.services import create_campaign
    from donations.models import Donation, DonationAttempt, WebhookEvent
    from donations.services import accounts, ledger
    from donations.services.stripe_api import webhook_secret
    from donations.services.webhooks import process_pending
    from tests.fixtures.donations import donor, event_body, sign

    celery_app.conf.task_always_eager = False
    campaign = create_campaign(
        actor=None,
        name="Bench",
        slug="bench",
        legal_framework=Campaign.LegalFramework.OTHER,
    )
    accounts.configure(
        campaign,
        actor=None,
        stripe_publishable_key="pk_test_bench",
        secret_key="sk_test_bench",  # noqa: S106  (a fake key for a scratch database)
        webhook_secret="whsec_bench",  # noqa: S106
    )
    secret = webhook_secret(campaign)
    donors = [
        ledger.find_donor(donor(email=f"donor{n}@bench.example.org"), campaign=campaign)
        for n in range(50)
    ]
    # Two sets of N events, one replayed C at a time, the other one at a time, plus a few
    # stored while warming up.
    attempts = DonationAttempt.objects.bulk_create(
        [
            DonationAttempt(
                form_token=uuid.uuid4().hex,
                campaign=campaign,
                person=donors[n % len(donors)],
                amount_cents=1000,
                payment_intent_id=f"pi_bench_{n}",
                status=DonationAttempt.Status.PENDING,
                first_name="Bench",
                last_name=f"Donor{n}",
                email=f"donor{n % len(donors)}@bench.example.org",
                natural_person=True,
                french_or_resident=True,
            )
            for n in range(2 * size + WARM_UP)
        ]
    )
    now = int(time.time())
    bodies = [
        event_body(
            "payment_intent.succeeded",
            {
                "id": attempt.payment_intent_id,
                "object": "payment_intent",
                "amount": attempt.amount_cents,
                "currency": "eur",
                "created": now,
                "status": "succeeded",
                "latest_charge": f"ch_bench_{n}",
                "metadata": {"campaign": str(campaign.pk), "attempt": str(attempt.uuid)},
            },
            event_id=f"evt_bench_{n}",
        )
        for n, attempt in enumerate(attempts)
    ]
    rng = random.Random(8)

    def deliveries(events: list[str]) -> list[tuple[str, str]]:
        chosen = events + rng.sample(events, max(1, len(events) // 10))
        rng.shuffle(chosen)
        return [(body, sign(body, secret)) for body in chosen]

    concurrent = deliveries(bodies[:size])
    sequential = deliveries(bodies[size : 2 * size])
    warm_up = [(body, sign(body, secret)) for body in bodies[2 * size :]]
    with connection.cursor() as cursor:  # the floor view's table (bench/webhook_app.py)
        cursor.execute("CREATE TABLE bench_inbox (id bigserial PRIMARY KEY, payload jsonb)")
    connection.close()  # the server's workers get their own connections

    ours_url = f"/donations/stripe/webhook/{campaign.pk}/"
    baseline_url = f"/bench/signature-only/{campaign.pk}/"
    floor_url = f"/bench/durable-insert/{campaign.pk}/"
    print(f"replaying 2 x {len(concurrent)} deliveries (2 x {size} events)", file=sys.stderr)
    server_args = ["--config", "platform/gunicorn.conf.py", "--access-logfile", "/dev/null"]
    production_like = {"DB_CONN_MAX_AGE": "60"}  # persistent connections, as in production
    with gunicorn(
        "bench.webhook_app:application", database_url, args=server_args, env=production_like
    ) as port:
        # Warm every worker and thread: URL resolver, secret cache, database connection,
        # prepared statement, Redis client (a forged signature reaches the database when the
        # secret is read again; genuine events take the whole path).
        replay(port, baseline_url, concurrent[:WARM_UP], concurrency)
        replay(
            port, ours_url, [(b, "t=1,v1=00") for b, _ in concurrent[:WARM_UP]], concurrency, 400
        )
        replay(port, ours_url, warm_up, concurrency)
        # The two views take turns on slices of the deliveries, so that a drift in the machine's
        # speed (a shared virtual machine) weighs on both alike.
        replay(port, floor_url, warm_up, concurrency)
        baseline = ours = floor = sequential_baseline = sequential_ours = 0.0
        for part in range(ROUNDS):
            chunk, one_by_one = concurrent[part::ROUNDS], sequential[part::ROUNDS]
            baseline += replay(port, baseline_url, chunk, concurrency)
            ours += replay(port, ours_url, chunk, concurrency)
            floor += replay(port, floor_url, chunk, concurrency)
            sequential_baseline += replay(port, baseline_url, one_by_one, 1)
            sequential_ours += replay(port, ours_url, one_by_one, 1)
    total = 2 * size + WARM_UP
    stored = WebhookEvent.objects.filter(campaign=campaign).count()
    celery_app.control.purge()  # the queued drain: applied here, in-process, and timed
    started = time.perf_counter()
    while process_pending(older_than_seconds=-60):
        pass
    apply_seconds = time.perf_counter() - started
    gifts = Donation.objects.filter(campaign=campaign).count()
    if stored != total or gifts != total:
        sys.exit(f"expected {total} events and gifts, got {stored} events, {gifts} gifts")
    return {
        "bench": "webhooks",
        "events": size,
        "vs_signature_only_view": round(baseline / ours, 3),
        "sequential_vs_signature_only_view": round(sequential_baseline / sequential_ours, 3),
        "durable_insert_vs_signature_only_view": round(baseline / floor, 3),
        "concurrency": concurrency,
        "deliveries": len(concurrent),
        "signature_only_per_s": round(len(concurrent) / baseline, 1),
        "ours_per_s": round(len(concurrent) / ours, 1),
        "sequential_signature_only_per_s": round(len(sequential) / sequential_baseline, 1),
        "sequential_ours_per_s": round(len(sequential) / sequential_ours, 1),
        "applied_per_s": round(total / apply_seconds, 1),
        "broker": "redis" if settings.REDIS_URL else "memory",
    }


def replay(
    port: int, url: str, signed: Sequence[tuple[str, str]], concurrency: int, expect: int = 200
) -> float:
    """Seconds to POST every delivery, `concurrency` keep-alive connections at once."""
    pending = iter(signed)
    lock = threading.Lock()
    failures: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not failures:
            with lock:
                item = next(pending, None)
            if item is None:
                break
            body, header = item
            conn.request("POST", url, body, {"Content-Type": "application/json",
                                             "Stripe-Signature": header})  # fmt: skip
            response = conn.getresponse()
            content = response.read()
            if response.status != expect:
                failures.append(f"{url}: HTTP {response.status}: {content[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        sys.exit(failures[0])
    return elapsed


if __name__ == "__main__":
    main()
