"""Messaging screens: compose, preview, test send, send, progress, outbox; tenancy."""

from __future__ import annotations

import pytest

from crm.models import Channel
from messaging.models import Blast, OutboxMessage

pytestmark = pytest.mark.django_db


def _compose_data(campaign, segment, sender, **extra):
    data = {
        "campaign": campaign.pk,
        "name": "Appel du 18",
        "channel": Channel.EMAIL,
        "purpose": "news",
        "segment": segment.pk,
        "sender": sender.pk,
        "subject": "Bonjour {{ first_name | ami }}",
        "preheader": "",
        "sms_text": "",
        "ab_sample_percent": 0,
        "ab_metric": "clicks",
        "ab_wait_minutes": 240,
        "block_0_type": "text",
        "block_0_text": "Chère {{ first_name }}, rendez-vous à {{ commune }}.",
        "block_1_type": "button",
        "block_1_url": "https://dupont2027.fr/agir",
        "block_1_label": "J'agis",
        "block_2_type": "donation",
        "block_2_text": "Soutenez la campagne.",
        "block_2_url": "https://dupont2027.fr/don",
        "block_2_label": "Je donne",
    }
    data.update(extra)
    return data


def test_compose_test_send_and_send_from_the_admin(
    make_staff, login, campaign, sender, audience, django_capture_on_commit_callbacks
):
    segment = audience(campaign, 5)
    client = login(make_staff(campaign))
    response = client.post("/admin/messaging/new/", _compose_data(campaign, segment, sender))
    assert response.status_code == 302, response.content.decode()[:2000]
    blast = Blast.objects.get(name="Appel du 18")
    assert [b["type"] for b in blast.blocks] == ["text", "button", "donation"]

    page = client.get(f"/admin/messaging/{blast.pk}/")
    assert page.status_code == 200 and b"data-preview" in page.content
    preview = client.get(f"/admin/messaging/{blast.pk}/preview/")
    as_person = segment.members.order_by("person_id").first().person
    assert f"?person={as_person.pk}" in page.content.decode()
    personal = client.get(f"/admin/messaging/{blast.pk}/preview/?person={as_person.pk}")
    assert f"Chère {as_person.first_names}" in personal.content.decode()
    html = preview.content.decode()
    assert "rendez-vous à" in html and "Je donne" in html and "{{" not in html

    client.post(f"/admin/messaging/{blast.pk}/test/", {"to": "staff@dupont2027.fr"})
    test = OutboxMessage.objects.get(is_test=True)
    assert test.to == "staff@dupont2027.fr" and test.subject.startswith("[TEST]")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/messaging/{blast.pk}/send/")
    blast.refresh_from_db()
    assert blast.status == Blast.Status.SENT
    assert OutboxMessage.objects.filter(delivery__blast=blast).count() == 5
    detail = client.get(f"/admin/messaging/{blast.pk}/")
    assert b'data-stat="sent">5<' in detail.content
    outbox = client.get("/admin/messaging/outbox/")
    assert outbox.content.count(b"data-outbox-message=") == 6


def test_another_campaigns_blast_is_a_404(
    make_staff, login, campaign, make_campaign, make_blast, audience
):
    blast = make_blast(audience(campaign, 1))
    other = login(make_staff(make_campaign("Autre")))
    for url in (
        f"/admin/messaging/{blast.pk}/",
        f"/admin/messaging/{blast.pk}/preview/",
        f"/admin/messaging/{blast.pk}/edit/",
    ):
        assert other.get(url).status_code == 404
    assert other.post(f"/admin/messaging/{blast.pk}/send/").status_code == 404
    listing = other.get("/admin/messaging/").content.decode().split("data-blasts")[1]
    assert f'data-blast="{blast.pk}"' not in listing
    blast.refresh_from_db()
    assert blast.status == Blast.Status.DRAFT


def test_a_treasurer_cannot_send(make_staff, login, campaign, make_blast, audience):
    from cocarde.tenancy.models import StaffRole

    blast = make_blast(audience(campaign, 1))
    treasurer = login(make_staff(campaign, StaffRole.Role.TREASURER))
    assert treasurer.post(f"/admin/messaging/{blast.pk}/send/").status_code == 404


def test_silence_refusal_is_shown_clearly(make_staff, login, campaign, make_blast, audience):
    import datetime as dt

    from django.utils import timezone

    from territory.models import Election, ElectionRound

    election = Election.objects.create(kind="municipales", name="Municipales", year=2026)
    ElectionRound.objects.create(
        election=election, number=1, date=timezone.localdate() + dt.timedelta(days=1)
    )
    campaign.election = election
    campaign.save()
    blast = make_blast(audience(campaign, 1))
    client = login(make_staff(campaign))
    response = client.post(f"/admin/messaging/{blast.pk}/send/", follow=True)
    assert "L49" in response.content.decode()
    blast.refresh_from_db()
    assert blast.status == Blast.Status.DRAFT


def test_sender_identities_show_dns_records(make_staff, login, campaign, sender):
    client = login(make_staff(campaign))
    page = client.get("/admin/messaging/senders/").content.decode()
    assert "_dmarc.dupont2027.fr" in page and "v=spf1" in page and "_domainkey" in page
