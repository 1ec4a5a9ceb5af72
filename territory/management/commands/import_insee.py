"""Import INSEE IRIS figures (census, Filosofi) or IRIS contours (GeoJSON)."""

from __future__ import annotations

from typing import Any

from territory.management.commands._base import ImportCommand
from territory.services.insee import import_insee


class Command(ImportCommand):
    help = (
        "Import an INSEE IRIS file (base-ic-evol-struct-pop, base-ic-logement, "
        "base-ic-activite-residents, Filosofi BASE_TD_FILO_IRIS...; any vintage) or IRIS "
        "contours in GeoJSON (WGS84). Ends with one JSON summary line."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")

    def handle(self, *args: Any, **options: Any) -> None:
        for path in options["paths"]:
            self.run_service(lambda path=path: import_insee(path, actor=None))
