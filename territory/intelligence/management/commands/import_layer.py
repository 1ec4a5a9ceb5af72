"""Import (or re-import) a data layer: `import_layer FILE --name NAME --campaign SLUG|--national`.
Prints one JSON summary line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cocarde.tenancy.models import Campaign
from territory.formats.common import FormatError
from territory.intelligence.services.layers import import_layer


class Command(BaseCommand):
    help = "Import a CSV (addresses or lat/lon) or GeoJSON file as a data layer."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path")
        parser.add_argument("--name", required=True)
        parser.add_argument("--campaign", help="campaign slug")
        parser.add_argument("--national", action="store_true", help="a layer every campaign sees")
        parser.add_argument("--description", default="")
        parser.add_argument("--color", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["campaign"]) == bool(options["national"]):
            raise CommandError("give --campaign SLUG or --national")
        campaign = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(slug=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"no campaign {options['campaign']!r}")
        path = Path(options["path"])
        if not path.exists():
            raise CommandError(f"file not found: {path}")
        try:
            layer = import_layer(
                path.read_bytes(), actor=None, filename=path.name, name=options["name"],
                campaign=campaign, description=options["description"], color=options["color"],
            )  # fmt: skip
        except FormatError as error:
            raise CommandError(str(error)) from None
        summary = {"layer": layer.pk, "placed": layer.feature_count, "unplaced": layer.unplaced}
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
