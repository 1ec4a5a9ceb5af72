"""Encryption of each campaign's Stripe keys at rest (Fernet, from `cryptography`).

The key comes from DONATIONS_ENCRYPTION_KEY (a Fernet key), or is derived from SECRET_KEY with
HKDF when that setting is empty (development, tests).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(configured: str, secret_key: str) -> Fernet:
    if configured:
        return Fernet(configured.encode())
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"cocarde-donations", info=b"stripe-keys"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def fernet() -> Fernet:
    return _fernet(getattr(settings, "DONATIONS_ENCRYPTION_KEY", ""), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode()).decode() if token else ""


@lru_cache(maxsize=1024)
def decrypt_cached(token: str) -> str:
    """decrypt() for hot paths (the webhook endpoint); a changed key is a new token."""
    return decrypt(token)
