"""Cocarde: the Django project (settings, URLs, Celery app, tenancy, accounts, audit)."""

import os

SETTINGS_MODULES = {
    "development": "cocarde.settings.development",
    "test": "cocarde.settings.test",
    "production": "cocarde.settings.production",
}


def use_settings_for_environment() -> None:
    """Point Django at the settings module that `DJANGO_ENV` names (development by default)."""
    name = os.environ.get("DJANGO_ENV", "development").strip() or "development"
    if name not in SETTINGS_MODULES:
        raise SystemExit(f"DJANGO_ENV={name!r} is not one of: {', '.join(SETTINGS_MODULES)}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULES[name])


# Load the Celery app with Django, so @shared_task binds to it.
from cocarde.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app", "use_settings_for_environment"]
