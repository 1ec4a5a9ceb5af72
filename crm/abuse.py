"""Abuse protection for public forms, without tracking anyone.

- a honeypot field that people never see and bots fill in;
- rate limits per IP address and per target (the email or phone submitted), counted in the
  cache under keyed hashes: no address is stored anywhere;
- a proof of work (ALTCHA protocol: the browser finds a number whose SHA-256 with a salt matches
  a challenge signed by us), with no cookie, no third party and no fingerprinting. Each solved
  challenge is accepted once.

A refused submission raises `SubmissionRefused` with a message to show the visitor, and nothing
is stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import altcha
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

HONEYPOT_FIELD = "website"  # looks like a field a bot wants to fill
POW_FIELD = "altcha"
POW_LIFETIME = dt.timedelta(minutes=30)


class SubmissionRefused(Exception):
    """The submission was refused; `message` says why, in the visitor's language."""

    code = "refused"

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


class SpamDetected(SubmissionRefused):
    code = "spam"


class RateLimited(SubmissionRefused):
    code = "rate_limited"


def _hmac_key() -> bytes:
    return hashlib.sha256(f"crm.abuse:{settings.SECRET_KEY}".encode()).digest()


def _hashed(value: str) -> str:
    return hmac.new(_hmac_key(), value.encode(), hashlib.sha256).hexdigest()[:32]


def client_ip(request: HttpRequest) -> str:
    """The address the reverse proxy saw (first X-Forwarded-For hop), else REMOTE_ADDR."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def _hit(bucket: str, value: str, limit: tuple[int, int]) -> bool:
    """Count one hit; True while under the limit. Fixed windows in the cache (Redis)."""
    count, seconds = limit
    key = f"crm:rate:{bucket}:{_hashed(value)}"
    if cache.add(key, 1, timeout=seconds):
        return True
    try:
        return cache.incr(key) <= count
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=seconds)
        return True


def new_challenge() -> dict[str, Any]:
    """A signed ALTCHA challenge for one form display (JSON for the widget)."""
    options = altcha.ChallengeOptionsV1(
        hmac_key=settings.SECRET_KEY,
        max_number=settings.CRM_POW_MAX_NUMBER,
        expires=timezone.now() + POW_LIFETIME,
    )
    challenge = altcha.create_challenge_v1(options)
    return challenge.to_dict()


def solve_challenge(challenge: dict[str, Any]) -> str:
    """What a browser does, in Python: for tests and tools that post forms without a browser."""
    salt, target = challenge["salt"], challenge["challenge"]
    for number in range(int(challenge["maxNumber"]) + 1):
        if hashlib.sha256(f"{salt}{number}".encode()).hexdigest() == target:
            payload = {
                "algorithm": challenge["algorithm"],
                "challenge": target,
                "number": number,
                "salt": salt,
                "signature": challenge["signature"],
            }
            return base64.b64encode(json.dumps(payload).encode()).decode()
    raise ValueError("challenge has no solution")


def verify_proof_of_work(payload: str) -> bool:
    if not payload or len(payload) > 2000:
        return False
    try:
        ok, _error = altcha.verify_solution_v1(payload, settings.SECRET_KEY, check_expires=True)
    except Exception:  # noqa: BLE001 (any malformed payload is simply not a proof)
        return False
    if not ok:
        return False
    try:
        signature = json.loads(base64.b64decode(payload))["signature"]
    except (ValueError, KeyError, TypeError):
        return False
    # Accepted once: a solved challenge cannot be replayed by a script.
    return cache.add(f"crm:pow:used:{signature}", 1, timeout=int(POW_LIFETIME.total_seconds()))


def check_submission(request: HttpRequest, *, targets: list[str], scope: str) -> None:
    """Raise SubmissionRefused unless this public submission looks human and within limits.

    `targets` are the normalised email/phone submitted; `scope` names the form (page) so one
    busy petition does not exhaust another's per-target budget.
    """
    data = request.POST
    if data.get(HONEYPOT_FIELD):
        raise SpamDetected(
            _("Your submission looks automated and was not recorded. Please try again.")
        )
    if not _hit("ip", client_ip(request), settings.CRM_RATE_LIMIT_PER_IP):
        raise RateLimited(
            _("Too many submissions from your connection. Please wait a few minutes.")
        )
    if not verify_proof_of_work(data.get(POW_FIELD, "")):
        raise SpamDetected(
            _(
                "The anti-spam check did not complete. Reload the page, wait a second for the "
                "check to finish, then submit again."
            )
        )
    for target in targets:
        if target and not _hit(f"target:{scope}", target, settings.CRM_RATE_LIMIT_PER_TARGET):
            raise RateLimited(
                _("This form was submitted too often for these details. Please try again later.")
            )
