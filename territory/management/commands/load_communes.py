"""Load regions, départements and communes from the pinned official dataset (no network)."""

from __future__ import annotations

from typing import Any

from territory.management.commands._base import ImportCommand
from territory.services.zones import load_communes


class Command(ImportCommand):
    help = (
        "Load regions, départements, communes and municipal arrondissements from the pinned "
        "copy of @etalab/decoupage-administratif shipped in territory/data (no network)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--departement",
            action="append",
            dest="departements",
            help="Only this département (repeatable), e.g. 41 or 2A.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_service(lambda: load_communes(actor=None, departements=options["departements"]))
