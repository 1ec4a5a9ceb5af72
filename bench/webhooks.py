"""Benchmark: signed Stripe events replayed at the webhook endpoint (10 % duplicates, shuffled),
against a view that only verifies the signature, through the same Django stack in the same run.

    .venv/bin/python bench/webhooks.py [--size N]

In a scratch database: one funded campaign, N donation attempts, N signed
`payment_intent.succeeded` events plus 10 % duplicates, shuffled. Both views receive the same
deliveries through Django's WSGI handler (middleware included). Our endpoint verifies, stores the
event once and queues its application (Celery through REDIS_URL when set, else in memory); the
queued events are then applied in-process and checked: one gift per event, none twice.
Prints one JSON line: bench, events, vs_signature_only_view (and the raw rates).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid

from _setup import django_setup, scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000)
    args = parser.parse_args()
    django_setup()
    with scratch_database():
        print(json.dumps(run(args.size)))


def run(size: int) -> dict[str, object]:
    import stripe
    from django.conf import settings
    from django.http import HttpRequest, HttpResponse
    from django.test import Client
    from django.urls import clear_url_caches, path
    from django.views.decorators.csrf import csrf_exempt

    from cocarde import urls
    from cocarde.celery import app as celery_app
    from cocarde.tenancy.models import Campaign
    from cocarde.tenancy.services import create_campaign
    from donations.models import Donation, DonationAttempt, WebhookEvent
    from donations.services import accounts, ledger
    from donations.services.stripe_api import webhook_secret
    from donations.services.webhooks import process_pending, secret_for
    from tests.fixtures.donations import donor, event_body, sign

    settings.ALLOWED_HOSTS = ["*"]
    celery_app.conf.task_always_eager = False  # the endpoint queues; it does not apply inline
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
            for n in range(size)
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
    deliveries = bodies + rng.sample(bodies, max(1, size // 10))
    rng.shuffle(deliveries)
    signed = [(body, sign(body, secret)) for body in deliveries]

    @csrf_exempt
    def signature_only(request: HttpRequest, campaign_id: int) -> HttpResponse:
        try:  # the same secret look-up as ours, then the signature check only
            stripe.WebhookSignature.verify_header(
                request.body.decode(),
                request.headers["Stripe-Signature"],
                secret_for(campaign_id),
                300,
            )
        except stripe.SignatureVerificationError:
            return HttpResponse(status=400)
        return HttpResponse("ok")

    urls.urlpatterns.insert(0, path("bench/signature-only/<int:campaign_id>/", signature_only))
    clear_url_caches()
    client = Client()

    def replay(url: str) -> float:
        started = time.perf_counter()
        for body, header in signed:
            response = client.post(
                url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
            if response.status_code != 200:
                sys.exit(f"{url}: HTTP {response.status_code}: {response.content[:200]!r}")
        return time.perf_counter() - started

    print(f"replaying {len(signed)} deliveries ({size} events)", file=sys.stderr)
    replay(f"/bench/signature-only/{campaign.pk}/")  # warm-up of the baseline
    baseline = replay(f"/bench/signature-only/{campaign.pk}/")
    ours = replay(f"/donations/stripe/webhook/{campaign.pk}/")
    stored = WebhookEvent.objects.filter(campaign=campaign).count()
    celery_app.control.purge()  # the queued drain: applied here, in-process, and timed
    started = time.perf_counter()
    while process_pending(older_than_seconds=-60):
        pass
    apply_seconds = time.perf_counter() - started
    gifts = Donation.objects.filter(campaign=campaign).count()
    if stored != size or gifts != size:
        sys.exit(f"expected {size} events and gifts, got {stored} events, {gifts} gifts")
    return {
        "bench": "webhooks",
        "events": size,
        "vs_signature_only_view": round(baseline / ours, 3),
        "deliveries": len(signed),
        "signature_only_per_s": round(len(signed) / baseline, 1),
        "ours_per_s": round(len(signed) / ours, 1),
        "applied_per_s": round(size / apply_seconds, 1),
        "broker": "redis" if settings.REDIS_URL else "memory",
    }


if __name__ == "__main__":
    main()
