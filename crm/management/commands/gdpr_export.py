"""`python manage.py gdpr_export --email ADDR`: everything held about a person, as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cocarde.audit.services import record_event
from crm.models import EmailAddress
from crm.normalize import NormalisationError, normalise_email
from crm.services.gdpr import export_person


class Command(BaseCommand):
    help = "Export every piece of data held about the person with this email address (JSON)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True, help="the person's email address")
        parser.add_argument("--output", help="write to this file instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            email = normalise_email(options["email"])
        except NormalisationError as error:
            raise CommandError(f"--email: {error}") from error
        row = EmailAddress.objects.filter(email=email).select_related("person").first()
        if row is None:
            raise CommandError(f"--email: nobody has the address {email}")
        data = json.dumps(export_person(row.person), ensure_ascii=False, indent=2)
        record_event("crm.person.export", actor=None, target=row.person, data={"via": "command"})
        if options.get("output"):
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(data)
        else:
            self.stdout.write(data)
