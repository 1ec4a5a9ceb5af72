"""Import election results per bureau de vote (classic, numbered or long layout)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from territory.management.commands._base import ImportCommand
from territory.services.results import get_round, import_results


class Command(ImportCommand):
    help = (
        "Import per-bureau election results: the classic Ministry layout (Latin-1, repeated "
        "candidate blocks), the numbered layout (Numéro de panneau N) or the long layout (one "
        "row per candidate; data.gouv.fr's general + candidates tables may be given together). "
        "Re-importing the same file changes nothing. Ends with one JSON summary line."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--election", type=int, required=True, help="Election id.")
        parser.add_argument("--round", type=int, required=True, help="Round number (1, 2).")
        parser.add_argument(
            "--date", type=dt.date.fromisoformat, help="Date of the round, to create it."
        )
        parser.add_argument(
            "--id-election",
            help="data.gouv.fr aggregated tables: the id_election to read (2024_legi_t1).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def run() -> dict[str, Any]:
            with transaction.atomic():
                election_round = get_round(
                    options["election"], options["round"], date=options["date"]
                )
                return import_results(
                    options["paths"],
                    election_round=election_round,
                    actor=None,
                    election_id=options["id_election"],
                )

        self.run_service(run)
