"""Export people as CSV or XLSX, formulas neutralised.

    python manage.py export_people people.xlsx [--campaign SLUG] [--tag TAG] [--sensitive]

The format follows the file's extension (.csv or .xlsx). Without --campaign every person is
exported (the command runs with the rights of the server's operator).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef, Q

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from crm.exports import EXPORT_COLUMNS, table, with_contacts, write_csv, write_xlsx
from crm.models import CampaignAttachment, Person, PersonTag


class Command(BaseCommand):
    help = "Export people as CSV or XLSX (cells that would run as formulas are neutralised)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", help="people.csv or people.xlsx")
        parser.add_argument("--campaign", metavar="SLUG", help="only this campaign's people")
        parser.add_argument("--tag", metavar="TAG", help="only people with this tag (name)")
        parser.add_argument(
            "--sensitive", action="store_true", help="add supporter status and support level"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if path.suffix.lower() not in (".csv", ".xlsx"):
            raise CommandError("path: give a .csv or .xlsx file name")
        people = Person.objects.all()
        campaign = None
        tags = PersonTag.objects.all()
        if options["campaign"]:
            campaign = Campaign.objects.filter(slug=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"--campaign: no campaign with slug {options['campaign']!r}")
            people = people.filter(
                Exists(CampaignAttachment.objects.filter(person=OuterRef("pk"), campaign=campaign))
            )
            tags = tags.filter(Q(tag__campaign__isnull=True) | Q(tag__campaign=campaign))
        if options["tag"]:
            people = people.filter(
                Exists(tags.filter(person=OuterRef("pk"), tag__name=options["tag"]))
            )
        columns = list(EXPORT_COLUMNS)
        if options["sensitive"]:
            columns += ["supporter_status", "support_level"]
            people = people.annotate(can_see_sensitive=Q(pk__isnull=False))
        people = with_contacts(people, tags).order_by("last_name_key", "first_names_key", "id")
        rows = table(people.iterator(chunk_size=1000), columns)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".csv":
            count = write_csv(rows, path)
        else:
            with path.open("wb") as handle:
                count = write_xlsx(rows, handle)
        record_event(
            "crm.people.export",
            actor=None,
            campaign=campaign,
            data={"count": count, "format": path.suffix.lstrip("."), "command": True},
        )
        self.stdout.write(f"{count} people exported to {path}")
