"""Provider webhooks: verified, applied once per event id, mirrored in deliveries, suppressions
and the person's timeline.

- SendGrid's signed event webhook: ECDSA P-256 over `timestamp + body`, the timestamp fresh.
- Twilio status callbacks and inbound messages: `X-Twilio-Signature`, HMAC-SHA1 of the public
  URL and the sorted parameters with the auth token.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import unicodedata
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import ActionType, Channel, EmailAddress, Person, PhoneNumber, Suppression
from crm.services.consent import suppress_keys, withdraw_consent
from crm.services.people import record_action, suppression_key_for
from messaging.models import Blast, Delivery, ProviderEvent

S = Delivery.Status
MAX_SKEW_SECONDS = 5 * 60


class BadSignature(Exception):
    pass


# --- SendGrid ---------------------------------------------------------------------------------


def verify_sendgrid(
    body: bytes, signature: str, timestamp: str, *, now: float | None = None
) -> None:
    key_b64 = settings.SENDGRID_WEBHOOK_PUBLIC_KEY
    if not key_b64 or not signature or not timestamp:
        raise BadSignature("missing key, signature or timestamp")
    try:
        if abs((now or time.time()) - int(timestamp)) > MAX_SKEW_SECONDS:
            raise BadSignature("stale timestamp")
        key = load_der_public_key(base64.b64decode(key_b64))
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise BadSignature("not an ECDSA key")
        key.verify(
            base64.b64decode(signature), timestamp.encode() + body, ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, ValueError, TypeError) as error:
        raise BadSignature(str(error)) from error


def _store(
    provider: str, event_id: str, kind: str, payload: dict[str, Any], delivery: Delivery | None
) -> bool:
    """True the first time this event is seen."""
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(
                provider=provider,
                event_id=event_id[:200],
                kind=kind[:40],
                payload=payload,
                delivery=delivery,
            )
    except IntegrityError:
        return False
    return True


def _delivery_for(event: Mapping[str, Any]) -> Delivery | None:
    raw = event.get("cocarde_delivery")
    if not raw:
        return None
    try:
        delivery = Delivery.objects.select_related("blast").get(pk=int(raw))
    except (Delivery.DoesNotExist, ValueError, TypeError):
        return None
    if str(event.get("email", "")).strip().lower() != delivery.address.lower():
        return None  # a forged or mismatched id changes nothing
    return delivery


def _person(delivery: Delivery) -> Person | None:
    return Person.objects.filter(pk=delivery.person_id).first() if delivery.person_id else None


def _reconcile_sent(delivery: Delivery, provider_id: str = "") -> None:
    Delivery.objects.filter(pk=delivery.pk, status__in=[S.SENDING, S.UNKNOWN]).update(
        status=S.SENT, sent_at=timezone.now(), provider_id=provider_id[:100], reason="reconciled"
    )


def _suppress_address(delivery: Delivery, *, everywhere: bool, reason: str) -> None:
    kind = "email" if delivery.blast.channel == Channel.EMAIL else "phone"
    suppress_keys(
        [(kind, suppression_key_for(kind, delivery.address))],
        campaign_id=None if everywhere else delivery.blast.campaign_id,
        channel=delivery.blast.channel,
        reason=reason,
    )


def apply_sendgrid_event(event: Mapping[str, Any], *, provider: str = "sendgrid") -> str:
    """One event in SendGrid's vocabulary (also what Anymail's normalised events map to)."""
    event_id = str(event.get("sg_event_id") or "")
    kind = str(event.get("event") or "")
    if not event_id:
        return "ignored: no event id"
    delivery = _delivery_for(event)
    with transaction.atomic():
        if not _store(provider, event_id, kind, dict(event), delivery):
            return "duplicate"
        if delivery is None:
            return "ignored: no delivery"
        now = timezone.now()
        at = dt.datetime.fromtimestamp(int(event.get("timestamp") or time.time()), tz=dt.UTC)
        blast = delivery.blast
        one = Delivery.objects.filter(pk=delivery.pk)
        if kind == "processed":
            _reconcile_sent(delivery, str(event.get("sg_message_id", "")))
        elif kind == "delivered":
            _reconcile_sent(delivery, str(event.get("sg_message_id", "")))
            one.filter(delivered_at__isnull=True).update(delivered_at=at)
            one.filter(status=S.SENT).update(status=S.DELIVERED)
        elif kind in ("open", "click"):
            field = "opened_at" if kind == "open" else "clicked_at"
            if one.filter(**{f"{field}__isnull": True}).update(**{field: at}):
                person = _person(delivery)
                if person is not None:
                    record_action(
                        person,
                        ActionType.EMAIL_OPENED if kind == "open" else ActionType.EMAIL_CLICKED,
                        campaign=blast.campaign_id,
                        occurred_at=at,
                        source=blast.name,
                        data={"blast_id": blast.pk, "url": str(event.get("url", ""))[:300]},
                    )
        elif kind == "bounce" and event.get("type") != "blocked":
            one.update(bounced_at=at, status=S.BOUNCED, reason=str(event.get("reason", ""))[:200])
            EmailAddress.objects.filter(email=delivery.address).update(
                status=EmailAddress.Status.BOUNCED
            )
            _suppress_address(delivery, everywhere=True, reason=Suppression.Reason.BOUNCED)
        elif kind == "dropped":
            one.update(status=S.FAILED, reason=str(event.get("reason", ""))[:200])
        elif kind == "spamreport":
            one.filter(complained_at__isnull=True).update(complained_at=now)
            EmailAddress.objects.filter(email=delivery.address).update(
                status=EmailAddress.Status.COMPLAINED
            )
            _suppress_address(delivery, everywhere=True, reason=Suppression.Reason.COMPLAINED)
            person = _person(delivery)
            if person is not None:
                withdraw_consent(
                    person, blast.campaign_id, blast.channel, actor=None,
                    source="spam complaint", reason=Suppression.Reason.COMPLAINED,
                )  # fmt: skip
        elif kind in ("unsubscribe", "group_unsubscribe"):
            unsubscribe(delivery, source="provider unsubscribe")
        else:
            return "ignored: unknown type"
    return "applied"


def unsubscribe(delivery: Delivery, *, source: str) -> None:
    """The recipient opted out from a message: consent withdrawn, address suppressed for the
    campaign and channel (through the CRM), and the delivery counted as unsubscribed."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=timezone.now()
        )
        person = _person(delivery)
        blast = delivery.blast
        if person is not None:
            withdraw_consent(
                person, blast.campaign_id, blast.channel, actor=None, source=source,
                reason=Suppression.Reason.UNSUBSCRIBED,
            )  # fmt: skip
        _suppress_address(delivery, everywhere=False, reason=Suppression.Reason.UNSUBSCRIBED)


def handle_sendgrid(body: bytes, signature: str, timestamp: str) -> dict[str, int]:
    verify_sendgrid(body, signature, timestamp)
    events = json.loads(body.decode())
    if not isinstance(events, list):
        raise ValueError("SendGrid posts a list of events")
    counts: dict[str, int] = {}
    for event in events:
        if isinstance(event, dict):
            outcome = apply_sendgrid_event(event).split(":")[0]
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


# --- Anymail's tracking webhooks (Brevo, Mailjet, SES, Postmark…) ------------------------------

ANYMAIL_TO_SENDGRID = {
    "queued": "processed",
    "sent": "processed",
    "delivered": "delivered",
    "bounced": "bounce",
    "rejected": "dropped",
    "failed": "dropped",
    "complained": "spamreport",
    "unsubscribed": "unsubscribe",
    "opened": "open",
    "clicked": "click",
}


def on_anymail_tracking(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """Anymail verified the webhook (its basic-auth secret); refuse everything without one."""
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return
    kind = ANYMAIL_TO_SENDGRID.get(event.event_type)
    metadata = event.metadata or {}
    if kind is None or not metadata.get("cocarde_delivery"):
        return
    timestamp = event.timestamp.timestamp() if event.timestamp else time.time()
    event_id = event.event_id or f"{event.message_id}:{event.event_type}:{int(timestamp)}"
    apply_sendgrid_event(
        {
            "sg_event_id": event_id,
            "event": kind,
            "type": "bounce",
            "email": event.recipient or "",
            "timestamp": int(timestamp),
            "cocarde_delivery": metadata["cocarde_delivery"],
            "url": event.click_url or "",
        },
        provider=f"anymail-{esp_name}"[:20],
    )


# --- Twilio -----------------------------------------------------------------------------------


def twilio_signature(url: str, params: Mapping[str, str], token: str | None = None) -> str:
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(
        (token or settings.TWILIO_AUTH_TOKEN).encode(), payload.encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def verify_twilio(url: str, params: Mapping[str, str], signature: str) -> None:
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        raise BadSignature("missing token or signature")
    if not hmac.compare_digest(twilio_signature(url, params), signature):
        raise BadSignature("bad signature")


def apply_twilio_status(params: Mapping[str, str], delivery_ref: str) -> str:
    sid = params.get("MessageSid", "")
    status = params.get("MessageStatus", "")
    if not sid or not status:
        return "ignored"
    delivery = None
    if delivery_ref.isdigit():
        delivery = Delivery.objects.select_related("blast").filter(pk=int(delivery_ref)).first()
        if delivery is not None and delivery.address != params.get("To", delivery.address):
            delivery = None
    with transaction.atomic():
        if not _store("twilio", f"{sid}:{status}", status, dict(params), delivery):
            return "duplicate"
        if delivery is None:
            return "ignored: no delivery"
        one = Delivery.objects.filter(pk=delivery.pk)
        if status in ("queued", "accepted", "sending", "sent", "delivered"):
            _reconcile_sent(delivery, sid)
            one.filter(provider_id="").update(provider_id=sid)
        if status == "delivered":
            one.filter(delivered_at__isnull=True).update(
                delivered_at=timezone.now(), status=S.DELIVERED
            )
        elif status in ("undelivered", "failed"):
            code = params.get("ErrorCode", "")
            one.update(status=S.BOUNCED, bounced_at=timezone.now(), reason=f"twilio {code}")
            if code == "21610":  # the number replied STOP earlier: it opted out at the carrier
                _suppress_address(delivery, everywhere=True, reason=Suppression.Reason.WITHDRAWN)
    return "applied"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).upper().split())


OPT_OUT = {
    "STOP",
    "STOP SMS",
    "STOPALL",
    "ARRET",
    "ARRETER",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "DESABONNER",
}
OPT_IN = {"START", "UNSTOP", "YES", "OUI"}
HELP = {"HELP", "INFO", "AIDE"}


def keyword(body: str) -> str | None:
    folded = _fold(body).strip(" .!")
    if folded in OPT_OUT:
        return "stop"
    if folded in OPT_IN:
        return "start"
    if folded in HELP:
        return "help"
    return None


def apply_twilio_inbound(params: Mapping[str, str]) -> str:
    """STOP and its synonyms: the number is opted out of SMS for every campaign (Twilio blocks it
    for the whole Messaging Service); START/UNSTOP lifts that; HELP is answered. Mirrored in the
    CRM timeline of every person with this number."""
    sid = params.get("MessageSid", "")
    number = params.get("From", "")
    if not sid or not number:
        return "ignored"
    word = keyword(params.get("Body", ""))
    with transaction.atomic():
        if not _store("twilio", sid, f"inbound:{word or 'text'}", dict(params), None):
            return "duplicate"
        key = suppression_key_for("phone", number)
        people = list(Person.objects.filter(phones__e164=number).distinct())
        if word == "stop":
            suppress_keys([("phone", key)], campaign_id=None, channel=Channel.SMS,
                          reason=Suppression.Reason.WITHDRAWN)  # fmt: skip
            campaigns = set(
                Delivery.objects.filter(address=number, blast__channel=Channel.SMS).values_list(
                    "blast__campaign_id", flat=True
                )
            )
            for person in people:
                for campaign_id in campaigns | set(
                    person.consents.filter(channel=Channel.SMS).values_list(
                        "campaign_id", flat=True
                    )
                ):
                    withdraw_consent(
                        person, campaign_id, Channel.SMS, actor=None, source="SMS STOP"
                    )
        elif word == "start":
            Suppression.objects.filter(
                key_hash=key, campaign__isnull=True, channel=Channel.SMS
            ).delete()
        for person in people:
            record_action(
                person,
                ActionType.SMS_REPLIED,
                campaign=None,
                source="SMS",
                data={"keyword": word or "", "number_suffix": number[-4:]},
            )
    return word or "text"


def help_text() -> str:
    from django.utils.translation import gettext as _

    return _("Reply STOP to stop receiving our SMS. Help: reply with your question by email.")


def known_phone(number: str) -> bool:
    return PhoneNumber.objects.filter(e164=number).exists()


__all__ = ["Blast", "BadSignature"]
