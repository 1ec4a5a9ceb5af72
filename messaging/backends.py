"""The embedded email provider: messages are stored in the outbox (shown in the admin)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        from messaging.models import OutboxMessage

        rows = []
        for message in email_messages:
            html = ""
            for content, mimetype in getattr(message, "alternatives", []) or []:
                if mimetype == "text/html":
                    html = str(content)
            extra: dict[str, Any] = getattr(message, "cocarde", {}) or {}
            for to in message.to:
                rows.append(
                    OutboxMessage(
                        campaign_id=extra.get("campaign_id"),
                        delivery_id=extra.get("delivery_id") or None,
                        is_test=bool(extra.get("is_test")),
                        to=to,
                        from_address=message.from_email,
                        subject=message.subject,
                        text=str(message.body),
                        html=html,
                        headers=dict(message.extra_headers),
                    )
                )
        OutboxMessage.objects.bulk_create(rows)
        return len(email_messages)
