"""`python manage.py gdpr_erase --email ADDR`: erase a person, keeping their opt-outs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from crm.models import EmailAddress
from crm.normalize import NormalisationError, normalise_email
from crm.services.gdpr import erase_person


class Command(BaseCommand):
    help = (
        "Erase the person with this email address everywhere. Their addresses and phones stay "
        "as keyed hashes on the suppression list; legally required finance records are kept."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True, help="the person's email address")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            email = normalise_email(options["email"])
        except NormalisationError as error:
            raise CommandError(f"--email: {error}") from error
        row = EmailAddress.objects.filter(email=email).select_related("person").first()
        if row is None:
            raise CommandError(f"--email: nobody has the address {email}")
        if not options["yes"]:
            answer = input(f"Erase person #{row.person_id} ({email})? Type 'erase': ")
            if answer.strip() != "erase":
                raise CommandError("Cancelled: nothing was changed.")
        result = erase_person(row.person, actor=None, reason="command")
        self.stdout.write(
            f"Erased person #{row.person_id}; {result['suppressed']} suppression(s) kept, "
            f"{result['kept']} finance record(s) kept."
        )
