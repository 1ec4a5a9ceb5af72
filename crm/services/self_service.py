"""The supporter's own page: signed links, corrections, subscriptions, download, erasure."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from crm.models import EmailAddress, Person

SELF_SERVICE_SALT = "crm.self-service"
SELF_SERVICE_MAX_AGE = 7 * 24 * 60 * 60
UNSUBSCRIBE_SALT = "crm.unsubscribe"


def self_service_token(person: Person) -> str:
    return signing.dumps(str(person.uuid), salt=SELF_SERVICE_SALT)


def person_from_self_service_token(token: str) -> Person | None:
    try:
        person_uuid = signing.loads(token, salt=SELF_SERVICE_SALT, max_age=SELF_SERVICE_MAX_AGE)
    except signing.BadSignature:
        return None
    return Person.objects.filter(uuid=person_uuid).first()


def unsubscribe_token(person: Person, campaign_id: int, channel: str) -> str:
    """For the one-click link in every message (no expiry: it must work from old messages)."""
    return signing.dumps([str(person.uuid), campaign_id, channel], salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[Person, int, str] | None:
    try:
        person_uuid, campaign_id, channel = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    person = Person.objects.filter(uuid=person_uuid).first()
    return (person, int(campaign_id), str(channel)) if person else None


def send_self_service_link(email: str, *, base_url: str, language: str = "fr") -> bool:
    """Email the link if we know the address; say nothing either way to the requester."""
    row = EmailAddress.objects.filter(email=email.strip().lower()).select_related("person").first()
    if row is None:
        return False
    link = f"{base_url}/crm/moi/{self_service_token(row.person)}/"
    with translation.override(language):
        body = render_to_string("crm/email/self_service_link.txt", {"link": link})
        subject = render_to_string("crm/email/self_service_link_subject.txt").strip()
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [row.email]).send()
    return True


def unsubscribe_headers(
    person: Person, campaign_id: int, channel: str, base_url: str
) -> dict[str, Any]:
    """RFC 8058 headers for messaging: one-click unsubscribe from the mail client."""
    url = f"{base_url}/crm/desabonnement/{unsubscribe_token(person, campaign_id, channel)}/"
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
