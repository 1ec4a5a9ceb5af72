"""Load BAN addresses (Base Adresse Nationale CSV) for offline geocoding."""

from __future__ import annotations

from typing import Any

from territory.management.commands._base import ImportCommand
from territory.services.addresses import import_ban


class Command(ImportCommand):
    help = (
        "Load the BAN address CSV (adresses-DD.csv, plain or .gz) for the needed communes: "
        "those given with --commune, else the active campaigns' communes, else all in the file. "
        "Ends with one JSON summary line."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", metavar="PATH")
        parser.add_argument(
            "--commune", action="append", dest="communes", help="INSEE code (repeatable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_service(
            lambda: import_ban(options["path"], actor=None, communes=options["communes"])
        )
