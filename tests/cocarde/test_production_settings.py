"""Production settings: refuse to start when unsafe, pass Django's deploy check, send the
security headers. Each case runs in a fresh process, as a real deployment would."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "cocarde.example",
    "DATABASE_URL": "postgres://cocarde:secret@db.internal:5432/cocarde",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "DEFAULT_FROM_EMAIL": "Cocarde <no-reply@cocarde.example>",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "CRM_SUPPRESSION_KEY": secrets.token_urlsafe(48),
    "DONATIONS_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser fixture, never in production
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_deploy_check_passes_at_warning_level():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_refuses_to_start_naming_every_missing_setting():
    result = run(["manage.py", "check"], {"DJANGO_ENV": "production"})
    assert result.returncode != 0
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "DEFAULT_FROM_EMAIL",
                 "EMAIL_BACKEND", "CRM_SUPPRESSION_KEY", "DONATIONS_ENCRYPTION_KEY"):  # fmt: skip
        assert name in result.stderr, name
    assert "Traceback" not in result.stderr.split("ImproperlyConfigured")[-1]


def test_refuses_weak_secret_and_wildcard_hosts():
    env = {**PRODUCTION_ENV, "SECRET_KEY": "short", "ALLOWED_HOSTS": "*"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "ALLOWED_HOSTS" in result.stderr
    assert "DATABASE_URL" not in result.stderr  # only what is wrong is named


PROBE = """
import json, django
from cocarde import use_settings_for_environment
use_settings_for_environment()
django.setup()
from django.test import Client
client = Client(HTTP_HOST="cocarde.example")
secure = client.get("/healthz", secure=True)
plain = client.get("/accounts/login/")
probe = client.get("/healthz")
print(json.dumps({
    "secure_status": secure.status_code,
    "headers": dict(secure.headers),
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "probe_status": probe.status_code,
}))
"""


def test_security_headers_and_https_redirect():
    result = run(["-c", PROBE], PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert seen["secure_status"] == 200
    assert "max-age=31536000" in headers["strict-transport-security"]
    assert "includeSubDomains" in headers["strict-transport-security"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-content-type-options"] == "nosniff"
    # Plain HTTP is sent to HTTPS, except the health probes used inside the network.
    assert seen["plain_status"] == 301
    assert seen["plain_location"].startswith("https://cocarde.example/")
    assert seen["probe_status"] == 200


def test_no_model_field_has_a_fixed_date_or_time_default():
    """Django's check W161 fails `check --deploy` while the clock is within 10 seconds of a
    fixed time default (20:00:00 every evening, for instance): defaults are callables."""
    import datetime as dt

    from django.apps import apps

    fixed = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if not model.__module__.startswith(("django.", "wagtail.", "allauth.", "taggit."))
        for field in model._meta.get_fields()
        if isinstance(getattr(field, "default", None), dt.date | dt.time)
    ]
    assert fixed == []
