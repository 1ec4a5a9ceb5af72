"""The pipeline in one process: audience, rendering, batching, retries, reconciliation, gates.
Providers are local HTTP servers (tests/fixtures/messaging.py); nothing of ours is patched."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import Channel, Consent, EmailAddress, Suppression
from crm.services.consent import withdraw_consent
from crm.services.people import suppression_key_for
from messaging.models import Blast, Delivery, OutboxMessage
from messaging.services import audience as audience_service
from messaging.services import blasts, events, pipeline
from territory.models import Election, ElectionRound

pytestmark = pytest.mark.django_db
S = Delivery.Status


def statuses(blast: Blast) -> dict[str, int]:
    out: dict[str, int] = {}
    for status in Delivery.objects.filter(blast=blast).values_list("status", flat=True):
        out[status] = out.get(status, 0) + 1
    return out


def test_audience_is_segment_minus_no_consent_suppressed_and_bounced(
    audience, make_blast, campaign, make_campaign
):
    segment = audience(campaign, 10)
    people = list(segment.members.order_by("person_id").values_list("person_id", flat=True))
    # 0: withdrew consent; 1: unsubscribed (campaign suppression); 2: erased elsewhere
    # (platform-wide suppression); 3: bounced address; 4: consent to another campaign only.
    from crm.models import Person

    withdraw_consent(
        Person.objects.get(pk=people[0]), campaign, Channel.EMAIL, actor=None, purpose="news"
    )
    email1 = EmailAddress.objects.get(person_id=people[1])
    Suppression.objects.create(
        kind="email", key_hash=email1.suppression_key, campaign=campaign, channel="email",
        reason=Suppression.Reason.UNSUBSCRIBED,
    )  # fmt: skip
    email2 = EmailAddress.objects.get(person_id=people[2])
    Suppression.objects.create(
        kind="email", key_hash=email2.suppression_key, channel="", reason="erased"
    )
    EmailAddress.objects.filter(person_id=people[3]).update(status=EmailAddress.Status.BOUNCED)
    Consent.objects.filter(person_id=people[4]).update(campaign=make_campaign())
    blast = make_blast(segment)

    assert audience_service.count_audience(blast) == 5
    assert blasts.start_blast(blast.pk) is True
    assert set(Delivery.objects.filter(blast=blast).values_list("person_id", flat=True)) == set(
        people[5:]
    )
    # A second start changes nothing.
    assert blasts.start_blast(blast.pk) is False
    assert Delivery.objects.filter(blast=blast).count() == 5


def test_sms_audience_drops_duplicate_numbers(audience, make_blast, campaign):
    from crm.models import PhoneNumber

    segment = audience(campaign, 4, channel=Channel.SMS)
    phones = list(PhoneNumber.objects.filter(person__segment_memberships__segment=segment))
    PhoneNumber.objects.filter(pk=phones[1].pk).update(
        e164=phones[0].e164, suppression_key=phones[0].suppression_key
    )  # a household's shared number
    blast = make_blast(segment, channel=Channel.SMS)
    blasts.start_blast(blast.pk)
    addresses = list(Delivery.objects.filter(blast=blast).values_list("address", flat=True))
    assert len(addresses) == 3 == len(set(addresses))


def test_outbox_gets_one_personal_message_each_with_unsubscribe_and_origin(
    audience, make_blast, campaign
):
    segment = audience(campaign, 3)
    from crm.models import Person

    Person.objects.filter(segment_memberships__segment=segment).order_by("pk").filter(
        pk=segment.members.order_by("person_id").first().person_id
    ).update(first_names="")
    blast = make_blast(segment)
    blasts.start_blast(blast.pk)
    assert pipeline.run_blast(blast.pk) == "done"
    blast.refresh_from_db()
    assert blast.status == Blast.Status.SENT
    messages = list(OutboxMessage.objects.filter(delivery__blast=blast))
    assert len(messages) == 3
    assert len({m.to for m in messages}) == 3
    subjects = sorted(m.subject for m in messages)
    assert subjects.count("Bonjour ami") == 1  # the fallback for the one without a first name
    assert sum(s.startswith("Bonjour Prénom") for s in subjects) == 2
    for message in messages:
        assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = message.headers["List-Unsubscribe"].strip("<>")
        assert link in message.html and link in message.text
        assert "pétition" in message.html  # where the data comes from (CNIL)
        assert "Villeneuve" in message.html
    assert Delivery.objects.filter(blast=blast, status=S.SENT).count() == 3
    from crm.models import Action

    assert Action.objects.filter(type="email_sent", data__blast_id=blast.pk).count() == 3


def test_sendgrid_batches_of_1000_with_personal_headers(
    audience, make_blast, campaign, sendgrid, settings
):
    segment = audience(campaign, 2500)
    blast = make_blast(segment, track_clicks=True)
    blasts.start_blast(blast.pk)
    assert pipeline.run_blast(blast.pk) == "done"
    assert [s for _t, s in sendgrid.requests] == [202, 202, 202]
    counts = sendgrid.counts()
    assert len(counts) == 2500 and set(counts.values()) == {1}
    first = sendgrid.accepted[0]
    assert first["headers"]["List-Unsubscribe"].startswith("<http")
    assert first["custom_args"]["cocarde_delivery"]
    assert first["tracking"]["click_tracking"]["enable"] is True
    assert first["tracking"]["open_tracking"]["enable"] is False  # off unless the campaign opts in
    subject_key = next(k for k in first["substitutions"] if first["subject"].find(k) >= 0)
    assert first["substitutions"][subject_key].startswith("Prénom")
    assert (
        Delivery.objects.filter(blast=blast, status=S.SENT).exclude(provider_id="").count() == 2500
    )


def test_429_and_503_are_retried_after_the_wait_and_all_delivered_once(
    audience, make_blast, campaign, sendgrid, settings
):
    settings.MESSAGING_BATCH_SIZE = 100
    segment = audience(campaign, 300)
    sendgrid.script = [(429, {"Retry-After": "1"}, 0), (503, {}, 0)]
    blast = make_blast(segment)
    blasts.start_blast(blast.pk)
    assert pipeline.run_blast(blast.pk) == "done"
    counts = sendgrid.counts()
    assert len(counts) == 300 and set(counts.values()) == {1}
    times = sendgrid.requests
    assert [s for _t, s in times[:3]] == [429, 503, 202]
    assert times[1][0] - times[0][0] >= 1.0  # Retry-After honoured
    assert Delivery.objects.filter(blast=blast, status=S.SENT).count() == 300


def test_timeout_is_unknown_then_reconciled_by_the_processed_event_not_resent(
    audience, make_blast, campaign, sendgrid, settings, messaging_env
):
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 0.5}
    segment = audience(campaign, 5)
    sendgrid.script = [(202, {}, 1.5)]  # accepted, but after our timeout
    blast = make_blast(segment)
    blasts.start_blast(blast.pk)
    pipeline.run_blast(blast.pk)
    assert statuses(blast) == {S.UNKNOWN: 5}
    pipeline.run_blast(blast.pk)
    assert len(sendgrid.accepted) == 5  # not resent blindly
    # SendGrid reports every accepted message ("processed"): that settles them.
    for message in sendgrid.accepted:
        events.apply_sendgrid_event(
            {
                "sg_event_id": f"ev-{message['custom_args']['cocarde_delivery']}",
                "event": "processed",
                "email": message["to"],
                "timestamp": int(timezone.now().timestamp()),
                "cocarde_delivery": message["custom_args"]["cocarde_delivery"],
            }
        )
    assert statuses(blast) == {S.SENT: 5}
    assert pipeline.finish_if_done(blast.pk)


def test_unknown_without_any_provider_record_is_sent_again_after_the_grace(
    audience, make_blast, campaign, sendgrid, settings
):
    settings.MESSAGING_RECONCILE_AFTER_SECONDS = 0
    segment = audience(campaign, 3)
    blast = make_blast(segment)
    blasts.start_blast(blast.pk)
    worker = pipeline.worker_id()
    _token, rows = pipeline.claim(blast.pk, worker, 10)
    Delivery.objects.filter(pk__in=[r[0] for r in rows]).update(
        status=S.SENDING, claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )  # a worker died during the provider call, and the provider never got it
    report = pipeline.recover(timezone.now())
    assert report["unknown"] == 3
    report = pipeline.recover(timezone.now() + dt.timedelta(seconds=1))
    assert report["resent"] == 3
    pipeline.run_blast(blast.pk)
    assert set(sendgrid.counts().values()) == {1} and len(sendgrid.counts()) == 3


def test_with_the_outbox_a_lost_worker_is_reconciled_exactly(
    audience, make_blast, campaign, settings
):
    """The embedded provider is our own table: what it holds was sent, the rest is sent now."""
    settings.MESSAGING_RECONCILE_AFTER_SECONDS = 0
    blast = make_blast(audience(campaign, 3))
    blasts.start_blast(blast.pk)
    _token, rows = pipeline.claim(blast.pk, pipeline.worker_id(), 10)
    ids = [r[0] for r in rows]
    Delivery.objects.filter(pk__in=ids).update(
        status=S.SENDING, claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )  # the worker died after the outbox stored the first message
    first = Delivery.objects.get(pk=ids[0])
    OutboxMessage.objects.create(campaign=campaign, delivery=first, to=first.address)
    pipeline.recover(timezone.now())
    report = pipeline.recover(timezone.now() + dt.timedelta(seconds=1))
    assert (report["reconciled"], report["resent"], report["failed"]) == (1, 2, 0)
    pipeline.run_blast(blast.pk)
    assert statuses(blast) == {S.SENT: 3}
    per_recipient = OutboxMessage.objects.filter(delivery__blast=blast).values_list("to", flat=True)
    assert sorted(per_recipient) == sorted(set(per_recipient)) and len(per_recipient) == 3


def test_unsubscribe_after_snapshot_is_not_sent(audience, make_blast, campaign, sendgrid, client):
    segment = audience(campaign, 4)
    blast = make_blast(segment)
    blasts.start_blast(blast.pk)
    delivery = Delivery.objects.filter(blast=blast).order_by("id").first()
    from crm.models import Person

    withdraw_consent(Person.objects.get(pk=delivery.person_id), campaign, Channel.EMAIL, actor=None)
    pipeline.run_blast(blast.pk)
    delivery.refresh_from_db()
    assert delivery.status == S.SUPPRESSED and delivery.reason
    assert delivery.address not in sendgrid.counts()
    assert len(sendgrid.counts()) == 3


def test_one_click_unsubscribe_from_the_header(audience, make_blast, campaign, client):
    segment = audience(campaign, 2)
    blast = make_blast(segment)
    blasts.start_blast(blast.pk)
    pipeline.run_blast(blast.pk)
    message = OutboxMessage.objects.filter(delivery__blast=blast).first()
    url = message.headers["List-Unsubscribe"].strip("<>")
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = client.post("/" + path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    delivery = Delivery.objects.get(pk=message.delivery_id)
    assert delivery.unsubscribed_at is not None
    assert Suppression.objects.filter(
        key_hash=suppression_key_for("email", delivery.address), campaign=campaign
    ).exists()
    assert not Consent.objects.filter(
        person_id=delivery.person_id, campaign=campaign, withdrawn_at__isnull=True
    ).exists()
    assert blasts.blast_stats(blast)["unsubscribed"] == 1
    # A forged token is a 404 and changes nothing.
    # The footer's preference link opens the person's own page through a fresh signed link.
    preferences = client.get(f"/m/p/{path.split('/')[2]}/")
    assert preferences.status_code == 302 and preferences["Location"].startswith("/crm/moi/")
    assert f"/m/p/{path.split('/')[2]}/" in message.html
    token = path.split("/")[2]
    forged = token[:-1] + ("1" if token[-1] != "1" else "2")
    assert client.post(f"/m/u/{forged}/").status_code == 404


def _silent_campaign(campaign) -> dt.date:
    round_day = timezone.localdate() + dt.timedelta(days=1)  # tomorrow: today is silent
    election = Election.objects.create(
        kind="municipales", name="Municipales test", year=round_day.year
    )
    ElectionRound.objects.create(election=election, number=1, date=round_day)
    campaign.election = election
    campaign.save()
    return round_day


def test_electoral_silence_refuses_scheduling_and_holds_at_send_time(
    audience, make_blast, campaign
):
    segment = audience(campaign, 2)
    blast = make_blast(segment)
    round_day = _silent_campaign(campaign)
    with pytest.raises(ValidationError) as refused:
        blasts.schedule_blast(blast, timezone.now() + dt.timedelta(hours=1), actor=None)
    assert "L49" in " ".join(refused.value.messages)
    with pytest.raises(ValidationError):
        blasts.start_blast(blast.pk)
    # Scheduled before the election was set, the send-time check still holds it.
    Blast.objects.filter(pk=blast.pk).update(status=Blast.Status.SENDING)
    from messaging.services import audience as aud

    aud.snapshot(blast)
    assert pipeline.run_blast(blast.pk).startswith("held")
    assert not OutboxMessage.objects.exists()
    # Transactional messages are not political: not held.
    Blast.objects.filter(pk=blast.pk).update(transactional=True)
    assert pipeline.run_blast(blast.pk) == "done"
    assert OutboxMessage.objects.count() == 2
    assert round_day


def test_pause_resume_and_cancel(audience, make_blast, campaign, settings):
    settings.MESSAGING_BATCH_SIZE = 10
    segment = audience(campaign, 30)
    blast = make_blast(segment)
    blasts.start_blast(blast.pk)
    pipeline.run_blast(blast.pk, max_chunks=1)
    blasts.pause_blast(blast, actor=None)
    assert pipeline.run_blast(blast.pk) == "status paused"
    assert OutboxMessage.objects.count() == 10
    assert not pipeline.finish_if_done(blast.pk)
    blasts.resume_blast(blast, actor=None)
    pipeline.run_blast(blast.pk, max_chunks=1)
    blasts.cancel_blast(blast, actor=None)
    assert pipeline.run_blast(blast.pk) == "status cancelled"
    assert OutboxMessage.objects.count() == 20
    assert statuses(blast) == {S.SENT: 20, S.CANCELLED: 10}


def test_ab_test_sends_sample_then_winner_to_the_rest(audience, make_blast, campaign):
    segment = audience(campaign, 100)
    blast = make_blast(segment, ab_sample_percent=20, ab_metric="clicks", ab_wait_minutes=0)
    blasts.add_variant(blast, "A", actor=None, subject="Sujet A")
    blasts.add_variant(blast, "B", actor=None, subject="Sujet B")
    blasts.start_blast(blast.pk)
    assert statuses(blast) == {S.QUEUED: 20, S.HELD: 80}
    pipeline.run_blast(blast.pk)
    assert OutboxMessage.objects.count() == 20
    b_rows = Delivery.objects.filter(blast=blast, variant="B")
    b_rows.filter(pk__in=list(b_rows.values_list("pk", flat=True)[:3])).update(
        clicked_at=timezone.now()
    )
    blast.refresh_from_db()
    assert blasts.decide_ab(blast) == "B"
    pipeline.run_blast(blast.pk)
    assert OutboxMessage.objects.count() == 100
    assert OutboxMessage.objects.filter(subject="Sujet B").count() == 90
    per_variant = {row["variant"]: row for row in blasts.variant_stats(blast)}
    assert per_variant["B"]["clicked"] == 3 and per_variant["A"]["sent"] == 10


def test_sendgrid_webhook_signed_dedup_and_forged(audience, make_blast, campaign, client, settings):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import base64

    settings.SENDGRID_WEBHOOK_PUBLIC_KEY = base64.b64encode(public).decode()
    segment = audience(campaign, 1)
    blast = make_blast(segment)
    blasts.start_blast(blast.pk)
    pipeline.run_blast(blast.pk)
    delivery = Delivery.objects.get(blast=blast)
    body = json.dumps(
        [
            {"sg_event_id": "bounce-1", "event": "bounce", "type": "bounce",
             "email": delivery.address, "timestamp": 1700000000,
             "cocarde_delivery": str(delivery.pk)},
            {"sg_event_id": "weird-1", "event": "brand_new_type", "email": delivery.address,
             "cocarde_delivery": str(delivery.pk)},
        ]
    ).encode()  # fmt: skip

    def post(payload: bytes, timestamp: str, signer=key):
        signature = base64.b64encode(
            signer.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
        ).decode()
        return client.post(
            "/m/sendgrid/events/",
            payload,
            content_type="application/json",
            HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=signature,
            HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
        )

    now = str(int(timezone.now().timestamp()))
    # Forged (another key), stale, and tampered: 403, nothing changed.
    assert post(body, now, ec.generate_private_key(ec.SECP256R1())).status_code == 403
    assert post(body, str(int(now) - 3600)).status_code == 403
    good_sig_other_body = post(b"[]", now)
    assert good_sig_other_body.status_code == 200
    delivery.refresh_from_db()
    assert delivery.bounced_at is None and not Suppression.objects.exists()
    for _ in range(46):
        assert post(body, now).status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == S.BOUNCED
    assert Suppression.objects.filter(reason="bounced").count() == 1
    assert EmailAddress.objects.get(email=delivery.address).status == "bounced"
    from messaging.models import ProviderEvent

    assert ProviderEvent.objects.filter(event_id="bounce-1").count() == 1


def test_a_scheduled_blast_is_started_by_the_sweeper_when_due(audience, make_blast, campaign):
    from messaging.tasks import sweep

    blast = make_blast(audience(campaign, 3))
    blasts.schedule_blast(blast, timezone.now() + dt.timedelta(hours=2), actor=None)
    assert sweep(enqueue=False)["started"] == []
    Blast.objects.filter(pk=blast.pk).update(scheduled_at=timezone.now() - dt.timedelta(minutes=1))
    report = sweep(enqueue=False)
    assert report["started"] == [blast.pk] and report["runners"] == [blast.pk]
    blast.refresh_from_db()
    assert blast.status == Blast.Status.SENDING and blast.snapshot_count == 3
    pipeline.run_blast(blast.pk)
    sweep(enqueue=False)
    blast.refresh_from_db()
    assert blast.status == Blast.Status.SENT


def test_anymail_tracking_webhook_needs_its_secret(
    audience, make_blast, campaign, client, settings
):
    import base64 as b64

    blast = make_blast(audience(campaign, 1))
    blasts.start_blast(blast.pk)
    pipeline.run_blast(blast.pk)
    delivery = Delivery.objects.get(blast=blast)
    event = [
        {"event": "click", "email": delivery.address, "timestamp": 1700000000,
         "sg_event_id": "anymail-click-1", "url": "https://dupont2027.fr/agir",
         "cocarde_delivery": str(delivery.pk)}
    ]  # fmt: skip
    url = "/m/anymail/sendgrid/tracking/"
    # Without a configured secret, events are ignored.
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}
    client.post(url, json.dumps(event), content_type="application/json")
    delivery.refresh_from_db()
    assert delivery.clicked_at is None
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret"}
    wrong = "Basic " + b64.b64encode(b"hook:wrong").decode()
    bad = client.post(
        url, json.dumps(event), content_type="application/json", HTTP_AUTHORIZATION=wrong
    )
    assert bad.status_code == 400
    auth = "Basic " + b64.b64encode(b"hook:s3cret").decode()
    for _ in range(2):
        ok = client.post(url, json.dumps(event), content_type="application/json",
                         HTTP_AUTHORIZATION=auth)  # fmt: skip
        assert ok.status_code == 200
    delivery.refresh_from_db()
    assert delivery.clicked_at is not None
    from crm.models import Action

    assert Action.objects.filter(person_id=delivery.person_id, type="email_clicked").count() == 1
