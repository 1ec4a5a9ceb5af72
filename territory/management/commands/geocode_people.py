"""Geocode people's addresses offline: point, precision, bureau de vote and IRIS per person."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from cocarde.tenancy.models import Campaign
from territory.management.commands._base import ImportCommand
from territory.services.people import geocode_people


class Command(ImportCommand):
    help = (
        "Match people's postal addresses against the imported BAN addresses (no network), "
        "record the precision, and give each person their polling station (from the roll, else "
        "from the address) and IRIS (from the point). Ends with one JSON summary line listing "
        "the addresses not found."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--campaign", help="Only this campaign's people (slug).")
        parser.add_argument(
            "--force", action="store_true", help="Geocode again people whose address is unchanged."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(slug=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"--campaign: no campaign {options['campaign']!r}")
        self.run_service(
            lambda: {
                "campaign": campaign.slug if campaign else None,
                **geocode_people(campaign=campaign, force=options["force"], actor=None),
            }
        )
