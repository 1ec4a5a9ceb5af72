"""Demo: a sender identity per demo campaign and, for the first one, a newsletter sent to its
subscribers through the embedded outbox, with the statistics its provider would have reported
(delivered, opened, clicked, one bounce, two unsubscribes). Idempotent."""

from __future__ import annotations

import time
from typing import TextIO

from django.db import transaction

from cocarde.tenancy.models import Campaign
from crm.models import Segment
from crm.segments import services as segments
from messaging.models import Blast, Delivery, MessagingSettings, SenderIdentity
from messaging.services import blasts, events, pipeline

DEMO_BLAST = "Lettre d'information – rentrée"
BLOCKS = [
    {
        "type": "text",
        "text": "Bonjour {{ first_name | à vous }},\n\n"
        "La rentrée approche et notre équipe à {{ commune | votre commune }} a besoin de vous : "
        "porte-à-porte samedi, réunion publique jeudi.",
    },
    {"type": "button", "label": "Je participe", "url": "https://demo.cocarde.localhost/agir/"},
    {"type": "quote", "text": "Une ville qui se construit avec chacun.", "author": "La candidate"},
    {
        "type": "donation",
        "text": "Chaque don compte, dans les limites fixées par la loi.",
        "label": "Je fais un don",
        "url": "https://demo.cocarde.localhost/don/",
    },
]


def _sender(campaign: Campaign) -> SenderIdentity:
    sender = SenderIdentity.objects.filter(campaign=campaign).first()
    if sender is None:
        domain = f"{campaign.slug}.cocarde.localhost"
        sender = SenderIdentity.objects.create(
            campaign=campaign,
            from_name=campaign.name[:100],
            from_email=f"equipe@{domain}",
            reply_to=campaign.contact_email or f"contact@{domain}",
            sms_sender=campaign.slug.replace("-", "").upper()[:11],
        )
    return sender


def _audience(campaign: Campaign) -> Segment:
    name = "Abonnés à la lettre d'information"
    segment = Segment.objects.filter(campaign=campaign, name=name).first()
    if segment is None:
        segment = segments.create_segment(
            actor=None,
            campaign=campaign,
            name=name,
            criteria={
                "op": "and",
                "children": [
                    {"criterion": "consent", "params": {"channel": "email", "purpose": "news"}}
                ],
            },
            description="Tous ceux qui ont accepté de recevoir la lettre par email.",
        )
        segments.count(segment)
    return segment


def _statistics(blast: Blast) -> None:
    """What the provider's webhook would have reported for this blast."""
    now = int(time.time())
    rows = list(Delivery.objects.filter(blast=blast).order_by("id"))
    for index, delivery in enumerate(rows):
        base = {"email": delivery.address, "timestamp": now, "cocarde_delivery": str(delivery.pk)}
        if index == 0:
            events.apply_sendgrid_event(
                {**base, "sg_event_id": f"demo-{delivery.pk}-bounce", "event": "bounce",
                 "type": "bounce", "reason": "550 mailbox unavailable"}
            )  # fmt: skip
            continue
        events.apply_sendgrid_event(
            {**base, "sg_event_id": f"demo-{delivery.pk}-delivered", "event": "delivered"}
        )
        if index % 5 in (1, 2):
            events.apply_sendgrid_event(
                {**base, "sg_event_id": f"demo-{delivery.pk}-open", "event": "open"}
            )
        if index % 10 == 1:
            events.apply_sendgrid_event(
                {**base, "sg_event_id": f"demo-{delivery.pk}-click", "event": "click",
                 "url": BLOCKS[1]["url"]}
            )  # fmt: skip
        if index in (3, 7):
            events.unsubscribe(delivery, source="demo")


def load(*, stdout: TextIO) -> None:
    campaigns = list(
        Campaign.objects.filter(kind=Campaign.Kind.CANDIDATE, is_active=True).order_by("pk")[:4]
    )
    for campaign in campaigns:
        _sender(campaign)
        MessagingSettings.objects.get_or_create(campaign=campaign)
    if not campaigns or Blast.objects.filter(name=DEMO_BLAST).exists():
        return
    from django.db.models import Count, Q

    campaign = (
        Campaign.objects.filter(pk__in=[c.pk for c in campaigns])
        .annotate(
            subscribers=Count(
                "consents",
                filter=Q(consents__channel="email", consents__withdrawn_at__isnull=True),
            )
        )
        .order_by("-subscribers", "pk")
        .first()
    )
    assert campaign is not None
    MessagingSettings.objects.filter(campaign=campaign).update(open_tracking=True)
    with transaction.atomic():
        blast = Blast.objects.create(
            campaign=campaign,
            name=DEMO_BLAST,
            segment=_audience(campaign),
            sender=_sender(campaign),
            subject="{{ first_name | Bonjour }}, on compte sur vous à la rentrée",
            preheader="Porte-à-porte samedi, réunion publique jeudi",
            blocks=BLOCKS,
            track_clicks=True,
        )
        if not blasts.start_blast(blast.pk, runners=0):
            return
    pipeline.run_blast(blast.pk)
    _statistics(blast)
    stats = blasts.blast_stats(blast)
    stdout.write(
        f"Sent the demo blast to {stats['sent']} subscribers of {campaign.name} (outbox)\n"
    )
