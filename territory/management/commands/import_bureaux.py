"""Import polling stations: INSEE's address and bureau tables, or contours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from territory.management.commands._base import ImportCommand
from territory.services.addresses import import_bureau_table
from territory.services.contours import import_bureau_contours


class Command(ImportCommand):
    help = (
        "Import polling stations (bureaux de vote): INSEE's 'bureaux de vote et adresses de "
        "leurs électeurs' address table (draws approximate contours from voter addresses) or "
        "bureau table (labels), or exact contours in GeoJSON/TopoJSON. One JSON line per file."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--no-contours",
            action="store_true",
            help="Do not compute approximate contours from the voter addresses.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for path in options["paths"]:
            if Path(path).suffix.lower() in {".geojson", ".json", ".topojson"}:
                self.run_service(lambda path=path: import_bureau_contours(path, actor=None))
            else:
                self.run_service(
                    lambda path=path: import_bureau_table(
                        path, actor=None, contours=not options["no_contours"]
                    )
                )
