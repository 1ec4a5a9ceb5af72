"""Sender identities: the DNS records a campaign publishes so its mail is authenticated."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from messaging.models import SenderIdentity


@dataclass(frozen=True)
class DnsRecord:
    kind: str
    name: str
    value: str
    why: str


def dns_records(sender: SenderIdentity) -> list[DnsRecord]:
    domain = sender.domain
    sendgrid = settings.MESSAGING_EMAIL_BACKEND.startswith("anymail.backends.sendgrid")
    spf = "v=spf1 include:sendgrid.net ~all" if sendgrid else "v=spf1 mx ~all"
    return [
        DnsRecord("TXT", domain, spf, _("SPF: the servers allowed to send for the domain.")),
        DnsRecord(
            "CNAME",
            f"s1._domainkey.{domain}",
            "s1.domainkey.<id>.wl.sendgrid.net" if sendgrid else _("given by your provider"),
            _("DKIM: the key that signs every message (given by the provider)."),
        ),
        DnsRecord(
            "CNAME",
            f"s2._domainkey.{domain}",
            "s2.domainkey.<id>.wl.sendgrid.net" if sendgrid else _("given by your provider"),
            _("DKIM: the second key, for rotation."),
        ),
        DnsRecord(
            "TXT",
            f"_dmarc.{domain}",
            f"v=DMARC1; p=none; rua=mailto:dmarc@{domain}; adkim=r; aspf=r",
            _("DMARC: what receivers do with unauthenticated mail (start with p=none)."),
        ),
    ]
