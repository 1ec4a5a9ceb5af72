"""Short signed tokens naming one delivery: for the unsubscribe link and its SMS form.

`<delivery id in base 36>-<16 hex of an HMAC>`: short enough for an SMS, cheap to make for a
million recipients, and never guessable from another recipient's link.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def _key() -> bytes:
    return hashlib.sha256(b"messaging.unsubscribe:" + settings.SECRET_KEY.encode()).digest()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


class TokenMaker:
    """Makes many tokens with one key derivation."""

    def __init__(self) -> None:
        self.key = _key()
        self._keyed = hmac.new(self.key, digestmod=hashlib.sha256)  # key schedule done once

    def make(self, delivery_id: int) -> str:
        mac = self._keyed.copy()
        mac.update(str(delivery_id).encode())
        return f"{_base36(delivery_id)}-{mac.hexdigest()[:16]}"


def delivery_token(delivery_id: int) -> str:
    return TokenMaker().make(delivery_id)


def read_delivery_token(token: str) -> int | None:
    head, _, _sig = token.partition("-")
    try:
        delivery_id = int(head, 36)
    except ValueError:
        return None
    return delivery_id if hmac.compare_digest(delivery_token(delivery_id), token) else None


def unsubscribe_url(token: str) -> str:
    return f"{settings.MESSAGING_PUBLIC_URL.rstrip('/')}/m/u/{token}/"
