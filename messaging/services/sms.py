"""SMS length: GSM-7 or UCS-2, concatenated segments, and the cost estimate."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # code units counted against the limits
    segments: int
    per_segment: int

    @property
    def cost(self) -> Decimal:
        return Decimal(settings.MESSAGING_SMS_PRICE_PER_SEGMENT) * self.segments


def sms_length(text: str) -> SmsLength:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        # UTF-16 code units: characters outside the BMP (emoji) take two.
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SmsLength(encoding, units, 1 if units else 0, single)
    return SmsLength(encoding, units, -(-units // multi), multi)
