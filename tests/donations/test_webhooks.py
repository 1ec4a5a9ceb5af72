"""The webhook is the source of truth: signed, stored once per event, applied exactly once, in
any order, and all-or-nothing when the handler crashes (reliability rows P1, P2, P3, P6)."""

from __future__ import annotations

import concurrent.futures
import json
import time

import pytest
import requests
from django.core import mail
from django.db import OperationalError, connection
from django.test import Client

from crm.models import Action, ActionType
from donations.models import Donation, DonationAttempt, Receipt, ReceiptRange, WebhookEvent
from donations.services import receipts
from donations.services.stripe_api import client_for
from tests.donations.helpers import paid_intent
from tests.fixtures.donations import event_body, sign, webhook_path, webhook_secret

pytestmark = pytest.mark.django_db(transaction=True)
RETRY_AT = 1796205600  # 2026-12-02 11:00 in Paris: Stripe's next attempt at a failed month


@pytest.fixture
def campaign(funded_campaign):
    campaign = funded_campaign("Alice Martin")
    receipts.add_range(campaign, 1, 50, actor=None)
    return campaign


def deliver(campaign, body: bytes, *, secret: str | None = None, at: int | None = None):
    client = Client(raise_request_exception=False)
    headers = {"HTTP_STRIPE_SIGNATURE": sign(body, secret or webhook_secret(campaign), at=at)}
    return client.post(webhook_path(campaign), body, content_type="application/json", **headers)


def test_same_event_five_times_at_once_is_one_gift_one_receipt_one_email(campaign, live_server):
    payment = paid_intent(campaign, "p1" * 16)
    body = event_body("payment_intent.succeeded", payment)
    header = sign(body, webhook_secret(campaign))

    def post(_):
        return requests.post(
            live_server.url + webhook_path(campaign),
            data=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            timeout=60,
        )

    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(post, range(5)))
    assert all(200 <= a.status_code < 300 for a in answers), [a.text for a in answers]
    assert Donation.objects.count() == 1 and Receipt.objects.count() == 1
    assert WebhookEvent.objects.count() == 1
    assert Action.objects.filter(type=ActionType.DONATED).count() == 1
    assert len(mail.outbox) == 1


def test_refund_before_payment_and_payment_before_processing(campaign):
    client = client_for(campaign)
    payment = paid_intent(campaign, "p2" * 16)
    client.v1.refunds.create(params={"payment_intent": payment["id"], "amount": 2000})
    charge = client.v1.charges.retrieve(str(payment["latest_charge"]["id"])).to_dict()

    # The refund arrives first: the payment is read from Stripe, recorded, then refunded.
    assert deliver(campaign, event_body("charge.refunded", charge)).status_code == 200
    donation = Donation.objects.get()
    assert (donation.amount_cents, donation.refunded_cents) == (5000, 2000)
    # Then the older events, and the refund again under a new event id.
    assert deliver(campaign, event_body("payment_intent.succeeded", payment)).status_code == 200
    assert WebhookEvent.objects.order_by("pk").last().result == "already recorded"
    processing = {**payment, "status": "processing"}
    assert deliver(campaign, event_body("payment_intent.processing", processing)).status_code == 200
    assert deliver(campaign, event_body("charge.refunded", charge)).status_code == 200
    donation.refresh_from_db()
    assert donation.refunded_cents == charge["amount_refunded"] == 2000  # counted once
    assert donation.status == Donation.Status.SUCCEEDED
    assert (
        DonationAttempt.objects.get().status == DonationAttempt.Status.SUCCEEDED
    )  # never downgraded
    action = Action.objects.get(type=ActionType.DONATED)
    assert action.data["amount"] == "30.00"

    # A full refund cancels the receipt; its number is not reused.
    client.v1.refunds.create(params={"payment_intent": payment["id"], "amount": 3000})
    charge = client.v1.charges.retrieve(charge["id"]).to_dict()
    deliver(campaign, event_body("charge.refunded", charge))
    donation.refresh_from_db()
    assert donation.status == Donation.Status.REFUNDED and donation.net_cents == 0
    assert Receipt.objects.get().status == Receipt.Status.CANCELLED


@pytest.mark.parametrize(
    "fault", ["wrong secret", "tampered body", "stale", "missing", "other campaign"]
)
def test_bad_signatures_are_refused_and_nothing_is_stored(campaign, funded_campaign, fault, caplog):
    other = funded_campaign("Bob Durand")
    payment = paid_intent(campaign, f"p3{fault}".ljust(32, "x"))
    body = event_body("payment_intent.succeeded", payment)
    client = Client(raise_request_exception=False)
    path = webhook_path(campaign)
    if fault == "wrong secret":
        header = sign(body, "whsec_forged")
    elif fault == "tampered body":
        header = sign(body, webhook_secret(campaign))
        body = body.replace(b'"amount": 5000', b'"amount": 1')
    elif fault == "stale":
        header = sign(body, webhook_secret(campaign), at=int(time.time()) - 301)
    elif fault == "missing":
        header = ""
    else:  # campaign A's delivery, signed with A's secret, posted to B's endpoint
        header = sign(body, webhook_secret(campaign))
        path = webhook_path(other)
    extra = {"HTTP_STRIPE_SIGNATURE": header} if header else {}
    response = client.post(path, body, content_type="application/json", **extra)
    assert response.status_code == 400
    assert b"Traceback" not in response.content
    assert "rejected webhook" in caplog.text
    assert not WebhookEvent.objects.exists() and not Donation.objects.exists()


def test_a_changed_secret_is_seen_by_the_next_delivery_despite_the_cached_one(campaign):
    """The endpoint caches each campaign's secret per process; a rotation or removal must still
    refuse the old secret at once (the inbox INSERT re-checks the stored secret)."""
    from donations.services import accounts

    old = webhook_secret(campaign)

    def customer_event(n: int) -> bytes:
        return event_body("customer.created", {"id": f"cus_rot{n}"}, event_id=f"evt_rot_{n}")

    assert deliver(campaign, customer_event(1)).status_code == 200  # the old secret is cached
    accounts.configure(campaign, actor=None, webhook_secret="whsec_rotated")
    assert deliver(campaign, customer_event(2), secret=old).status_code == 400
    assert not WebhookEvent.objects.filter(event_id="evt_rot_2").exists()
    assert deliver(campaign, customer_event(2), secret="whsec_rotated").status_code == 200
    assert deliver(campaign, customer_event(2), secret="whsec_rotated").content == b"duplicate"
    accounts.configure(campaign, actor=None, webhook_secret="")
    assert deliver(campaign, customer_event(3), secret="whsec_rotated").status_code == 400
    assert list(WebhookEvent.objects.values_list("event_id", flat=True).order_by("pk")) == [
        "evt_rot_1",
        "evt_rot_2",
    ]


def test_a_connection_the_server_closed_is_replaced_and_the_event_stored(campaign, postgres):
    """The inbox skips Django's per-request health check: a dead persistent connection (the
    database restarted) must still not lose a delivery."""
    first = event_body("payment_intent.succeeded", paid_intent(campaign, "pa" * 16))
    second = event_body("payment_intent.succeeded", paid_intent(campaign, "pb" * 16))
    assert deliver(campaign, first).status_code == 200  # the secret is cached from here on
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert deliver(campaign, second).content == b"queued"
    assert WebhookEvent.objects.count() == Donation.objects.count() == 2


def test_applied_payloads_are_emptied_after_the_retention_period(campaign, settings):
    import datetime as dt

    from django.utils import timezone

    from donations.tasks import bulk_empty_old_webhook_payloads

    settings.PROVIDER_PAYLOAD_RETENTION_DAYS = 90
    body = event_body("payment_intent.succeeded", paid_intent(campaign, "pc" * 16))
    assert deliver(campaign, body).content == b"queued"
    pending = WebhookEvent.objects.create(
        campaign=campaign, event_id="evt_pending", type="charge.refunded", payload={"id": "x"}
    )
    WebhookEvent.objects.update(received_at=timezone.now() - dt.timedelta(days=91))

    assert bulk_empty_old_webhook_payloads.delay().get() == 1
    applied = WebhookEvent.objects.exclude(pk=pending.pk).get()
    assert applied.payload == {} and applied.processed_at is not None
    pending.refresh_from_db()
    assert pending.payload == {"id": "x"}  # not applied yet: still needed
    assert Donation.objects.get().email  # the gift itself is the record
    assert deliver(campaign, body).content == b"duplicate"


def test_an_event_for_another_campaign_changes_nothing_there(campaign, funded_campaign):
    other = funded_campaign("Bob Durand")
    payment = paid_intent(campaign, "p4" * 16)
    body = event_body("payment_intent.succeeded", payment)
    response = deliver(other, body)  # correctly signed for B, but the payment is A's
    assert response.status_code == 200
    assert WebhookEvent.objects.get(campaign=other).result == "other campaign"
    assert not Donation.objects.exists()


@pytest.fixture
def failing_actions():
    """A fault in the database itself: writing a CRM action fails (after the donation row)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_fail_action() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER test_fail_action BEFORE INSERT ON crm_action "
                "FOR EACH ROW EXECUTE FUNCTION test_fail_action()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_fail_action BEFORE INSERT ON crm_action "
                "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
            )

    def heal() -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("DROP TRIGGER IF EXISTS test_fail_action ON crm_action")
                cursor.execute("DROP FUNCTION IF EXISTS test_fail_action()")
            else:
                cursor.execute("DROP TRIGGER IF EXISTS test_fail_action")

    yield heal
    heal()


def test_crash_after_the_first_write_leaves_nothing_and_a_retry_applies_once(
    campaign, failing_actions
):
    payment = paid_intent(campaign, "p6" * 16)
    body = event_body("payment_intent.succeeded", payment)
    assert deliver(campaign, body).status_code == 500
    assert not Donation.objects.exists() and not Receipt.objects.exists()
    assert not Action.objects.filter(type=ActionType.DONATED).exists()
    # The inbox keeps the verified event, not applied: Stripe's retry or the sweeper applies it.
    assert WebhookEvent.objects.get().processed_at is None
    assert ReceiptRange.objects.get().next_number == 1  # no number burnt
    assert DonationAttempt.objects.get().status == DonationAttempt.Status.PENDING

    failing_actions()
    assert deliver(campaign, body).status_code == 200  # Stripe's retry: the same event
    assert deliver(campaign, body).content == b"duplicate"
    donation = Donation.objects.get()
    assert donation.receipts.get().number == 1
    assert WebhookEvent.objects.get().processed_at is not None
    assert json.loads(body)["id"] == WebhookEvent.objects.get().event_id


def test_the_sweeper_applies_events_left_pending(campaign, failing_actions):
    from donations.services.webhooks import process_pending

    payment = paid_intent(campaign, "p7" * 16)
    body = event_body("payment_intent.succeeded", payment)
    assert deliver(campaign, body).status_code == 500
    assert process_pending(older_than_seconds=0) == 0  # still failing: stays pending
    assert WebhookEvent.objects.get().processed_at is None
    failing_actions()
    assert process_pending(older_than_seconds=0) == 1
    assert process_pending(older_than_seconds=0) == 0
    assert Donation.objects.count() == 1
    assert deliver(campaign, body).content == b"duplicate"


def test_with_a_real_worker_five_deliveries_make_one_gift(campaign, live_server, celery_worker):
    """Production path: the endpoint only stores the event and schedules a drain; the Celery
    worker applies it, once."""
    from tests.fixtures.donations import wait_for

    payment = paid_intent(campaign, "p8" * 16)
    body = event_body("payment_intent.succeeded", payment)
    header = sign(body, webhook_secret(campaign))

    def post(_):
        return requests.post(
            live_server.url + webhook_path(campaign),
            data=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            timeout=60,
        )

    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(post, range(5)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert "queued" in [a.text for a in answers]
    wait_for(lambda: WebhookEvent.objects.filter(processed_at__isnull=False).exists(), "the worker")
    assert Donation.objects.count() == 1 and Receipt.objects.count() == 1
    assert (
        requests.post(
            live_server.url + webhook_path(campaign),
            data=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
            timeout=60,
        ).text
        == "duplicate"
    )


def test_a_payment_that_no_longer_fits_the_cap_is_refunded_above_it(campaign):
    import datetime as dt

    from django.utils import timezone

    from donations.services import ledger
    from donations.services.giving import start_gift
    from tests.donations.helpers import gift_request, pay
    from tests.fixtures.donations import donor

    started = start_gift(campaign, gift_request("p9" * 16, amount_cents=300_000))
    # The donor left the payment page; the reservation expired; a cheque came in meanwhile.
    DonationAttempt.objects.filter(pk=started.attempt.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=2)
    )
    ledger.record_offline_gift(
        campaign=campaign,
        identity=donor(),
        amount_cents=400_000,
        method="cheque",
        received_on=dt.date.today(),
        actor=None,
    )
    pay(campaign, started.attempt.payment_intent_id)
    payment = client_for(campaign).v1.payment_intents.retrieve(started.attempt.payment_intent_id)
    assert (
        deliver(campaign, event_body("payment_intent.succeeded", payment.to_dict())).status_code
        == 200
    )
    late = Donation.objects.get(payment_intent_id=payment.id)
    assert late.refunded_cents == 240_000  # 3,000 + 4,000 - 4,600
    charge = client_for(campaign).v1.charges.retrieve(str(payment.latest_charge["id"]))
    assert charge.amount_refunded == 240_000
    from cocarde.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="donations.over_cap").exists()


def test_disputes_and_failed_monthly_payments(campaign):
    from donations.models import RecurringGift

    payment = paid_intent(campaign, "pa" * 16)
    deliver(campaign, event_body("payment_intent.succeeded", payment))
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "payment_intent": payment["id"],
        "status": "needs_response",
    }
    deliver(campaign, event_body("charge.dispute.created", dispute))
    donation = Donation.objects.get()
    assert donation.status == Donation.Status.DISPUTED
    deliver(campaign, event_body("charge.dispute.closed", {**dispute, "status": "lost"}))
    donation.refresh_from_db()
    assert donation.status == Donation.Status.REFUNDED and donation.net_cents == 0
    assert donation.receipts.get().status == Receipt.Status.CANCELLED

    attempt = DonationAttempt.objects.get()
    gift = RecurringGift.objects.create(
        campaign=campaign,
        person=attempt.person,
        attempt=attempt,
        amount_cents=2000,
        stripe_subscription_id="sub_failing",
        status=RecurringGift.Status.ACTIVE,
    )
    failed = {
        "id": "in_failed",
        "object": "invoice",
        "subscription": "sub_failing",
        "attempt_count": 1,
        "next_payment_attempt": RETRY_AT,
    }
    before = len(mail.outbox)
    deliver(campaign, event_body("invoice.payment_failed", failed))
    deliver(campaign, event_body("invoice.payment_failed", failed))  # the same attempt, again
    gift.refresh_from_db()
    assert gift.status == RecurringGift.Status.PAST_DUE
    assert len(mail.outbox) == before + 1
    retrying = mail.outbox[-1]
    assert "/donations/mensuel/" in retrying.body  # French by default, with Stripe's date
    assert "a échoué. Nous réessaierons le 2 décembre 2026." in retrying.body
    assert "aucune nouvelle tentative" not in retrying.body

    # Stripe's last attempt fails too (no next attempt): the donor is told the gift stops.
    last = {**failed, "attempt_count": 4, "next_payment_attempt": None}
    assert deliver(campaign, event_body("invoice.payment_failed", last)).status_code == 200
    assert len(mail.outbox) == before + 2
    stopped = mail.outbox[-1]
    assert "s’arrête" in stopped.subject
    assert "aucune nouvelle tentative ne sera faite" in stopped.body
    assert "Votre don mensuel est donc arrêté" in stopped.body
    assert "réessaierons" not in stopped.body and "/donations/mensuel/" not in stopped.body
    assert WebhookEvent.objects.filter(result="monthly payment failed, last attempt").exists()
    deliver(
        campaign,
        event_body("customer.subscription.deleted", {"id": "sub_failing", "status": "canceled"}),
    )
    gift.refresh_from_db()
    assert gift.status == RecurringGift.Status.CANCELED


def test_a_failed_attempt_is_emailed_once_even_after_a_redis_restart(campaign):
    from django.core.cache import cache

    from donations.models import PaymentFailureNotice, RecurringGift
    from donations.tasks import transactional_send_payment_failed
    from tests.donations.helpers import monthly_gift

    gift = monthly_gift(campaign, "pb" * 16)
    RecurringGift.objects.filter(pk=gift.pk).update(status=RecurringGift.Status.ACTIVE)
    failed = {
        "id": "in_retried",
        "object": "invoice",
        "subscription": gift.stripe_subscription_id,
        "attempt_count": 1,
        "next_payment_attempt": int(time.time()) + 3 * 86400,
    }
    before = len(mail.outbox)
    deliver(campaign, event_body("invoice.payment_failed", failed))
    assert len(mail.outbox) == before + 1
    cache.clear()  # Redis restarted, or lost its keys
    # The same attempt in another event (Stripe reports a declined manual attempt without
    # counting it), and the task delivered again: nothing more is sent.
    deliver(campaign, event_body("invoice.payment_failed", failed))
    assert len(mail.outbox) == before + 1
    assert transactional_send_payment_failed(gift.pk, "in_retried", 1) is False
    assert len(mail.outbox) == before + 1
    # Stripe's next automatic attempt fails too: the donor hears of it, once.
    deliver(campaign, event_body("invoice.payment_failed", {**failed, "attempt_count": 2}))
    assert len(mail.outbox) == before + 2
    assert list(
        PaymentFailureNotice.objects.filter(recurring_gift=gift)
        .order_by("attempt")
        .values_list("invoice_id", "attempt")
    ) == [("in_retried", 1), ("in_retried", 2)]


def test_the_failed_payment_email_in_english_says_when_stripe_tries_again_or_that_it_stops(
    campaign, settings
):
    from donations.models import RecurringGift
    from tests.donations.helpers import monthly_gift

    settings.LANGUAGE_CODE = "en"
    gift = monthly_gift(campaign, "pc" * 16)
    RecurringGift.objects.filter(pk=gift.pk).update(status=RecurringGift.Status.ACTIVE)
    failed = {
        "id": "in_en",
        "object": "invoice",
        "subscription": gift.stripe_subscription_id,
        "attempt_count": 2,
        "next_payment_attempt": RETRY_AT,
    }
    before = len(mail.outbox)
    deliver(campaign, event_body("invoice.payment_failed", failed))
    assert "failed. We will try again on Dec. 2, 2026." in mail.outbox[-1].body
    deliver(campaign, event_body("invoice.payment_failed", failed))
    assert len(mail.outbox) == before + 1  # the same attempt
    deliver(
        campaign,
        event_body(
            "invoice.payment_failed", {**failed, "attempt_count": 3, "next_payment_attempt": None}
        ),
    )
    stopped = mail.outbox[-1]
    assert len(mail.outbox) == before + 2 and stopped.subject.endswith("and is stopped")
    assert "no further attempt will be made" in stopped.body
    assert "Your monthly gift is therefore stopped" in stopped.body
    assert "try again" not in stopped.body
