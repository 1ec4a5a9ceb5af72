"""SMS: length and cost, quiet hours, pacing shared through Redis, Twilio sending, signed status
callbacks and inbound STOP/START/HELP mirrored in the CRM."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from crm.models import Action, Channel, Consent, PhoneNumber, Suppression
from crm.services.people import suppression_key_for
from messaging.models import Blast, Delivery, MessagingSettings, ProviderEvent
from messaging.services import blasts, pipeline
from messaging.services.events import twilio_signature
from messaging.services.ratelimit import TokenBucket
from messaging.services.silence import PARIS, in_quiet_hours
from messaging.services.sms import sms_length

pytestmark = pytest.mark.django_db
S = Delivery.Status


def test_sms_length_gsm7_ucs2_and_concatenation():
    assert (sms_length("a" * 160).segments, sms_length("a" * 160).encoding) == (1, "GSM-7")
    assert sms_length("a" * 161).segments == 2  # 153 per part once concatenated
    assert sms_length("a" * 306).segments == 2 and sms_length("a" * 307).segments == 3
    assert sms_length("€" * 80).characters == 160  # extension table: two septets each
    assert sms_length("€" * 81).segments == 2
    assert sms_length("ç" * 70).encoding == "UCS-2" and sms_length("ç" * 70).segments == 1
    assert sms_length("ç" * 71).segments == 2  # 67 per part
    assert sms_length("🙂").characters == 2  # outside the BMP: a surrogate pair
    assert sms_length("a" * 161).cost == 2 * sms_length("a").cost


def _at(y, m, d, hh, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (_at(2026, 12, 1, 12), False),  # a Tuesday at noon
        (_at(2026, 12, 1, 21), True),  # night
        (_at(2026, 12, 1, 9, 59), True),  # before 10:00
        (_at(2026, 11, 29, 12), True),  # Sunday
        (_at(2026, 7, 14, 12), True),  # public holiday
        (_at(2026, 5, 25, 12), True),  # Whit Monday (Easter + 50 days)
    ],
)
def test_quiet_hours(moment, quiet):
    assert in_quiet_hours(moment=moment, start=dt.time(20), end=dt.time(10)) is quiet


def test_token_bucket_hands_out_one_slot_per_interval_across_callers(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete("cocarde:messaging:bucket:test-bucket")
    one = TokenBucket("test-bucket", rate=5, client=client)
    two = TokenBucket("test-bucket", rate=5, client=redis.Redis.from_url(redis_url))
    waits = [bucket.reserve() for _ in range(5) for bucket in (one, two)]
    # Ten reservations from two "workers" at 5/s: slots 0.2 s apart, in order, none shared.
    assert waits == sorted(waits)
    assert waits[-1] >= 9 * 0.2 - 0.05
    assert all(b - a >= 0.2 - 0.01 for a, b in zip(waits, waits[1:], strict=False))


def test_token_bucket_makes_up_a_short_pause_but_not_idleness(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    key = "cocarde:messaging:bucket:catch-up"
    bucket = TokenBucket("catch-up", rate=10, catch_up=0.5, client=client)

    def schedule_behind(seconds: float) -> None:
        now, micro = client.time()
        client.set(key, str(now * 1_000_000 + micro - int(seconds * 1_000_000)))

    # Workers paused 0.3 s (recording, taking a chunk): the 3 slots missed and the current
    # one are used now, then the schedule is back to one slot every 0.1 s.
    schedule_behind(0.3)
    waits = [bucket.reserve() for _ in range(6)]
    assert [w <= 0.01 for w in waits] == [True, True, True, True, False, False]
    assert 0.05 <= waits[4] <= 0.15 and 0.15 <= waits[5] <= 0.25
    # Idle for 2 s (longer than the catch-up): no burst, the schedule restarts from now.
    schedule_behind(2.0)
    waits = [bucket.reserve() for _ in range(3)]
    assert waits[0] == pytest.approx(0, abs=0.02) and waits[1] > 0.05 and waits[2] > 0.15


@pytest.fixture
def sms_campaign_rules(campaign):
    MessagingSettings.objects.update_or_create(
        campaign=campaign,
        defaults={
            "quiet_sundays": False,
            "quiet_holidays": False,
            "quiet_start": dt.time(0),
            "quiet_end": dt.time(0),
            "sms_per_second": 50,
        },
    )


def test_sms_blast_through_twilio_with_opt_out_link_and_status_callbacks(
    twilio, audience, make_blast, campaign, client, sms_campaign_rules
):
    segment = audience(campaign, 3, channel=Channel.SMS)
    blast = make_blast(segment, channel=Channel.SMS)
    blasts.start_blast(blast.pk)
    assert pipeline.run_blast(blast.pk) == "done"
    assert len(twilio.accepted) == 3 and len(twilio.counts()) == 3
    message = twilio.accepted[0]
    assert message["MessagingServiceSid"] == "MGtest"
    assert "/m/u/" in message["Body"]  # alphanumeric sender: an opt-out link, not "STOP"
    assert message["Body"].startswith("Bonjour Prénom")
    delivery = Delivery.objects.get(blast=blast, address=message["To"])
    assert delivery.status == S.SENT and delivery.provider_id == message["sid"]
    assert delivery.sms_segments == 1

    callback = message["StatusCallback"]
    path = "/" + callback.split("://", 1)[1].split("/", 1)[1]
    params = {"MessageSid": message["sid"], "MessageStatus": "delivered", "To": message["To"]}
    url = settings.MESSAGING_PUBLIC_URL.rstrip("/") + path
    good = twilio_signature(url, params, "twilio-test-token")
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE="forged").status_code == 403
    delivery.refresh_from_db()
    assert delivery.delivered_at is None
    for _ in range(3):  # Twilio may call back more than once
        assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=good).status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == S.DELIVERED and delivery.delivered_at is not None
    assert ProviderEvent.objects.filter(provider="twilio").count() == 1


def test_sms_sender_that_receives_replies_says_stop(
    twilio, audience, make_blast, campaign, sender, sms_campaign_rules
):
    sender.sms_can_receive_replies = True
    sender.save()
    blast = make_blast(audience(campaign, 1, channel=Channel.SMS), channel=Channel.SMS)
    blasts.start_blast(blast.pk)
    pipeline.run_blast(blast.pk)
    assert "STOP" in twilio.accepted[0]["Body"] and "/m/u/" not in twilio.accepted[0]["Body"]


def test_sms_waits_during_quiet_hours(twilio, audience, make_blast, campaign):
    MessagingSettings.objects.update_or_create(
        campaign=campaign,
        defaults={
            "quiet_start": dt.time(0),
            "quiet_end": dt.time(23, 59, 59),
            "quiet_sundays": True,
        },
    )
    blast = make_blast(audience(campaign, 2, channel=Channel.SMS), channel=Channel.SMS)
    blasts.start_blast(blast.pk)
    assert pipeline.run_blast(blast.pk) == "held: SMS quiet hours"
    assert twilio.accepted == []
    blast.refresh_from_db()
    assert blast.hold_reason and blast.status == Blast.Status.SENDING


def _inbound(client, body: str, number: str, sid: str, signature: str | None = None):
    params = {"MessageSid": sid, "From": number, "Body": body, "MessagingServiceSid": "MGtest"}
    url = settings.MESSAGING_PUBLIC_URL.rstrip("/") + "/m/twilio/inbound/"
    signature = signature or twilio_signature(url, params, "twilio-test-token")
    return client.post("/m/twilio/inbound/", params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.mark.parametrize("word", ["STOP", "stop", " Arrêt ", "ARRET", "Stop SMS", "stopall"])
def test_inbound_stop_and_synonyms_opt_out_everywhere(twilio, audience, campaign, client, word):
    segment = audience(campaign, 1, channel=Channel.SMS)
    phone = PhoneNumber.objects.get(person__segment_memberships__segment=segment)
    key = suppression_key_for("phone", phone.e164)
    assert _inbound(client, word, phone.e164, "SM1", signature="bad").status_code == 403
    assert not Suppression.objects.filter(key_hash=key).exists()
    for _ in range(2):  # a duplicate delivery of the same message changes nothing more
        assert _inbound(client, word, phone.e164, "SM1").status_code == 200
    assert (
        Suppression.objects.filter(key_hash=key, campaign__isnull=True, channel="sms").count() == 1
    )
    assert not Consent.objects.filter(person=phone.person, withdrawn_at__isnull=True).exists()
    assert Action.objects.filter(person=phone.person, type="sms_replied").count() == 1


def test_inbound_start_lifts_the_stop_and_help_answers(twilio, audience, campaign, client):
    segment = audience(campaign, 1, channel=Channel.SMS)
    phone = PhoneNumber.objects.get(person__segment_memberships__segment=segment)
    key = suppression_key_for("phone", phone.e164)
    _inbound(client, "STOP", phone.e164, "SM1")
    assert Suppression.objects.filter(key_hash=key).exists()
    _inbound(client, "unstop", phone.e164, "SM2")
    assert not Suppression.objects.filter(key_hash=key, campaign__isnull=True).exists()
    response = _inbound(client, "Aide", phone.e164, "SM3")
    assert b"<Message>" in response.content and b"STOP" in response.content
    response = _inbound(client, "Bonjour, je viens samedi", phone.e164, "SM4")
    assert b"<Message>" not in response.content
