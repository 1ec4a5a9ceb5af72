"""Production: refuses to start while a required setting is missing or unsafe."""

from django.core.exceptions import ImproperlyConfigured

from cocarde.settings.base import *  # noqa: F403
from cocarde.settings.base import (
    ALLOWED_HOSTS,
    DATABASES,
    EMAIL_BACKEND,
    MIDDLEWARE,
    REDIS_URL,
    SECRET_KEY,
)
from cocarde.settings.env import env_bool, env_int, env_str

DEBUG = False

# gunicorn's gthread workers keep their threads: one persistent connection each spares every
# request a PostgreSQL connection set-up (several milliseconds). Health-checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)

# Behind the reverse proxy (platform/nginx.conf), which terminates TLS and sets this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probed over plain HTTP inside the network
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
COCARDE_STAFF_MFA_REQUIRED = True
# gunicorn serves static files itself, compressed and cached forever (hashed names).
MIDDLEWARE = [*MIDDLEWARE[:1], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def _is_fernet_key(value: str) -> bool:
    """Without its own key the Stripe keys' encryption would hang on SECRET_KEY, which rotates."""
    from cryptography.fernet import Fernet

    try:
        Fernet(value.encode())
    except ValueError:
        return False
    return True


def _problems() -> list[str]:
    """Every missing or unsafe setting, so an operator fixes them all in one go."""
    problems = []
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or "insecure" in SECRET_KEY:
        problems.append("SECRET_KEY: set a random value of at least 50 characters")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS: list the public hostnames, comma-separated (no '*')")
    if "postgresql" not in DATABASES["default"]["ENGINE"]:
        problems.append(
            "DATABASE_URL: must point at PostgreSQL (postgres://user:pass@host:5432/name)"
        )
    if not REDIS_URL:
        problems.append("REDIS_URL: required for the task queue and cache (redis://host:6379/0)")
    if len(env_str("CRM_SUPPRESSION_KEY")) < 32:
        problems.append(
            "CRM_SUPPRESSION_KEY: set a random value of at least 32 characters, and never change it"
        )
    if not _is_fernet_key(env_str("DONATIONS_ENCRYPTION_KEY")):
        problems.append(
            "DONATIONS_ENCRYPTION_KEY: a Fernet key for the campaigns' Stripe keys, never changed"
            " (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        )
    if not env_str("DEFAULT_FROM_EMAIL"):
        problems.append("DEFAULT_FROM_EMAIL: the sender of account and system mail")
    if EMAIL_BACKEND.endswith(("console.EmailBackend", "locmem.EmailBackend")):
        problems.append(
            "EMAIL_BACKEND: set a real backend, e.g. anymail.backends.sendgrid.EmailBackend"
        )
    return problems


if _missing := _problems():
    raise ImproperlyConfigured(
        "Cocarde cannot start in production; fix these settings:\n  - " + "\n  - ".join(_missing)
    )
