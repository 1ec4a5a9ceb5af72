"""Load the demo: `python manage.py demo` (idempotent)."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cocarde import demo as platform_demo

# Order matters: each app's demo builds on the ones before it.
DEMO_APPS = [
    "sites",
    "crm",
    "territory",
    "territory.intelligence",
    "messaging",
    "donations",
    "canvassing",
]


class Command(BaseCommand):
    help = "Create the demo admin, campaigns and the demo data of every installed app."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DJANGO_ENV == "production":
            raise CommandError("The demo never runs in production.")
        platform_demo.load(stdout=self.stdout)
        for app in DEMO_APPS:
            if find_spec(f"{app}.demo") is not None:
                import_module(f"{app}.demo").load(stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo ready. Admin: http://127.0.0.1:8000/admin/ — "
                f"email {platform_demo.ADMIN_EMAIL}, password {platform_demo.demo_admin_password()}"
            )
        )
