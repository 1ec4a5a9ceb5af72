from __future__ import annotations

from typing import Any

import pytest

from crm.models import Channel
from messaging.models import Blast, SenderIdentity


@pytest.fixture
def campaign(make_campaign) -> Any:
    return make_campaign("Marie Dupont 2027")


@pytest.fixture
def sender(campaign) -> SenderIdentity:
    return SenderIdentity.objects.create(
        campaign=campaign,
        from_name="Marie Dupont",
        from_email="marie@dupont2027.fr",
        reply_to="contact@dupont2027.fr",
        sms_sender="DUPONT2027",
    )


@pytest.fixture
def make_blast(campaign, sender):
    def make(segment: Any, *, channel: str = Channel.EMAIL, **extra: Any) -> Blast:
        fields: dict[str, Any] = {
            "campaign": campaign,
            "name": "Lettre de juin",
            "channel": channel,
            "segment": segment,
            "sender": sender,
            "subject": "Bonjour {{ first_name | ami }}",
            "blocks": [
                {
                    "type": "text",
                    "text": "Bonjour {{ first_name | ami }} de {{ commune }},\n\nMerci.",
                },
                {"type": "button", "label": "Agir", "url": "https://dupont2027.fr/agir"},
                {"type": "quote", "text": "Ensemble.", "author": "Marie"},
            ],
            "sms_text": "Bonjour {{ first_name }}, RDV samedi 10h place de la mairie.",
        }
        fields.update(extra)
        return Blast.objects.create(**fields)

    return make
