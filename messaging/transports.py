"""Providers behind one small interface: a batch of emails, or one SMS, and what happened.

Email goes through the Django email backend named by MESSAGING_EMAIL_BACKEND. An Anymail
backend gets the whole batch in one API call (SendGrid: up to 1,000 personalisations, the
template substituted by the provider); any other backend (the outbox, SMTP) gets one message
per recipient, rendered here. SMS go to Twilio's REST API through a Messaging Service, or to
the outbox.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

import requests
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import timezone

from messaging.services.render import Compiled

SENT, RETRY, UNKNOWN, FAILED = "sent", "retry", "unknown", "failed"


@dataclass
class Outcome:
    status: str  # SENT, RETRY (nothing left), UNKNOWN (may have left), FAILED (refused)
    provider_id: str = ""
    retry_after: float | None = None
    error: str = ""


@dataclass
class EmailRecipient:
    delivery_id: int
    address: str
    values: list[str]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class EmailBatch:
    campaign_id: int
    blast_id: int
    from_email: str
    reply_to: str
    compiled: Compiled
    recipients: list[EmailRecipient]
    track_clicks: bool = False
    track_opens: bool = False
    is_test: bool = False


def _retry_after(response: Any) -> float | None:
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = dt.datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=dt.UTC)
        except ValueError:
            return None
        return max(0.0, (when - timezone.now()).total_seconds())


def _classify_request_error(error: BaseException) -> Outcome:
    """No connection at all: nothing left, retry. A timeout or a cut after the request was
    written: it may have left, reconcile."""
    if isinstance(error, requests.ConnectTimeout) or (
        isinstance(error, requests.ConnectionError)
        and "Failed to establish a new connection" in str(error)
    ):
        return Outcome(RETRY, error=str(error)[:200])
    return Outcome(UNKNOWN, error=str(error)[:200])


def _http_outcome(status: int | None, response: Any, text: str) -> Outcome:
    if status == 429 or (status is not None and status >= 500):
        return Outcome(RETRY, retry_after=_retry_after(response), error=f"HTTP {status}")
    return Outcome(FAILED, error=f"HTTP {status}: {text[:200]}")


def is_batch_backend(path: str | None = None) -> bool:
    return (path or settings.MESSAGING_EMAIL_BACKEND).startswith("anymail.")


OUTBOX_EMAIL_BACKEND = "messaging.backends.OutboxEmailBackend"


def is_outbox(channel: str) -> bool:
    """The embedded provider: messages go to our own OutboxMessage table."""
    if channel == "email":
        return settings.MESSAGING_EMAIL_BACKEND == OUTBOX_EMAIL_BACKEND
    return settings.MESSAGING_SMS_BACKEND == "outbox"


def reports_every_message(channel: str) -> bool:
    """The provider sends an event for every message it accepted (Anymail ESPs, Twilio), so a
    message without any event after the grace period never left."""
    if channel == "email":
        return is_batch_backend()
    return settings.MESSAGING_SMS_BACKEND == "twilio"


SENDGRID_BACKEND = "anymail.backends.sendgrid.EmailBackend"


def send_email_batch(batch: EmailBatch) -> Outcome:
    connection = get_connection(settings.MESSAGING_EMAIL_BACKEND)
    if settings.MESSAGING_EMAIL_BACKEND == SENDGRID_BACKEND:
        return _send_sendgrid_batch(batch, connection)
    if is_batch_backend():
        return _send_anymail_batch(batch, connection)
    messages = []
    for recipient in batch.recipients:
        subject, html, text = batch.compiled.render(recipient.values)
        message = EmailMultiAlternatives(
            subject,
            text,
            batch.from_email,
            [recipient.address],
            reply_to=[batch.reply_to] if batch.reply_to else None,
            headers=recipient.headers,
        )
        message.attach_alternative(html, "text/html")
        message.cocarde = {  # type: ignore[attr-defined]
            "campaign_id": batch.campaign_id,
            "delivery_id": recipient.delivery_id,
            "is_test": batch.is_test,
        }
        messages.append(message)
    try:
        connection.send_messages(messages)
    except (OSError, requests.RequestException) as error:  # SMTP and friends
        return Outcome(UNKNOWN, error=str(error)[:200])
    return Outcome(SENT)


def _send_anymail_batch(batch: EmailBatch, connection: Any) -> Outcome:
    subject, html, text = batch.compiled.with_markers()
    message = AnymailMessage(
        subject=subject,
        body=text,
        from_email=batch.from_email,
        to=[r.address for r in batch.recipients],
        reply_to=[batch.reply_to] if batch.reply_to else None,
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    message.merge_data = {
        r.address: batch.compiled.substitutions(r.values) for r in batch.recipients
    }
    message.merge_headers = {r.address: r.headers for r in batch.recipients}
    message.merge_metadata = {
        r.address: {"cocarde_delivery": str(r.delivery_id), "cocarde_blast": str(batch.blast_id)}
        for r in batch.recipients
    }
    message.track_clicks = batch.track_clicks
    message.track_opens = batch.track_opens
    try:
        message.send()
    except AnymailAPIError as error:
        if error.status_code is None and isinstance(error, requests.RequestException):
            return _classify_request_error(error)  # no HTTP answer at all
        return _http_outcome(error.status_code, error.response, str(error))
    response = message.anymail_status.esp_response
    provider_id = response.headers.get("X-Message-Id", "") if response is not None else ""
    return Outcome(SENT, provider_id=provider_id)


def _sendgrid_address(value: str) -> dict[str, str]:
    name, email = parseaddr(value)
    return {"email": email, "name": name} if name else {"email": email}


def _send_sendgrid_batch(batch: EmailBatch, connection: Any) -> Outcome:
    """SendGrid's v3 mail/send, the payload Anymail's SendGrid backend would build for this
    batch (one personalisation per recipient: substitutions, headers, custom_args), written
    directly: for 1,000 recipients Anymail's generic per-message processing (address parsing,
    deep copies of the merge data) cost several times the HTTP call. Configuration (API key,
    URL, timeout) and the session are still the Anymail backend's."""
    subject, html, text = batch.compiled.with_markers()
    substitutions = batch.compiled.substitutions
    blast = str(batch.blast_id)
    personalizations = [
        {
            "to": [{"email": r.address}],
            "substitutions": substitutions(r.values),
            "headers": r.headers,
            "custom_args": {
                "cocarde_delivery": str(r.delivery_id),
                "cocarde_blast": blast,
                "anymail_id": str(uuid.uuid4()),
            },
        }
        for r in batch.recipients
    ]
    data: dict[str, Any] = {
        "personalizations": personalizations,
        "from": _sendgrid_address(batch.from_email),
        "subject": subject,
        "content": [{"type": "text/plain", "value": text}, {"type": "text/html", "value": html}],
        "tracking_settings": {
            "click_tracking": {"enable": batch.track_clicks},
            "open_tracking": {"enable": batch.track_opens},
        },
    }
    if batch.reply_to:
        data["reply_to_list"] = [_sendgrid_address(batch.reply_to)]
    body = json.dumps(data, ensure_ascii=False).encode()
    connection.open()
    try:
        response = connection.session.post(
            f"{connection.api_url}mail/send",
            data=body,
            headers={
                "Authorization": f"Bearer {connection.api_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            timeout=connection.timeout,
        )
    except requests.RequestException as error:
        return _classify_request_error(error)
    finally:
        connection.close()
    if not 200 <= response.status_code < 300:
        return _http_outcome(response.status_code, response, response.text)
    return Outcome(SENT, provider_id=response.headers.get("X-Message-Id", ""))


# --- SMS -------------------------------------------------------------------------------------


@dataclass
class Sms:
    campaign_id: int
    delivery_id: int | None
    to: str
    body: str
    sender: str = ""
    is_test: bool = False


def twilio_messages_url() -> str:
    base = settings.TWILIO_API_URL.rstrip("/")
    return f"{base}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Messages.json"


def status_callback_url(delivery_id: int | None) -> str:
    url = f"{settings.MESSAGING_PUBLIC_URL.rstrip('/')}/m/twilio/status/"
    return f"{url}?d={delivery_id}" if delivery_id else url


def send_sms(sms: Sms, session: requests.Session | None = None) -> Outcome:
    if settings.MESSAGING_SMS_BACKEND != "twilio":
        from messaging.models import OutboxMessage

        row = OutboxMessage.objects.create(
            campaign_id=sms.campaign_id,
            channel="sms",
            delivery_id=sms.delivery_id,
            to=sms.to,
            from_address=sms.sender,
            text=sms.body,
            is_test=sms.is_test,
        )
        return Outcome(SENT, provider_id=f"outbox-{row.pk}")
    auth = base64.b64encode(
        f"{settings.TWILIO_ACCOUNT_SID}:{settings.TWILIO_AUTH_TOKEN}".encode()
    ).decode()
    data = {
        "To": sms.to,
        "Body": sms.body,
        "MessagingServiceSid": settings.TWILIO_MESSAGING_SERVICE_SID,
        "StatusCallback": status_callback_url(sms.delivery_id),
        "ValidityPeriod": str(min(settings.MESSAGING_SMS_VALIDITY_SECONDS, 36000)),
    }
    if sms.sender:
        data["From"] = sms.sender
    try:
        response = (session or requests).post(
            twilio_messages_url(),
            data=data,
            headers={"Authorization": f"Basic {auth}"},
            timeout=float(str(settings.ANYMAIL.get("REQUESTS_TIMEOUT", 30))),
        )
    except requests.RequestException as error:
        return _classify_request_error(error)
    if response.status_code in (200, 201):
        return Outcome(SENT, provider_id=str(response.json().get("sid", "")))
    return _http_outcome(response.status_code, response, response.text)


def send_sms_many(messages: Sequence[Sms]) -> list[Outcome]:
    with requests.Session() as session:
        return [send_sms(m, session) for m in messages]
