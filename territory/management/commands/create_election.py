"""Create an election and its rounds (the ids that import_results takes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError

from territory.management.commands._base import ImportCommand
from territory.services.elections import create_election


def round_spec(value: str) -> tuple[int, dt.date]:
    number, _sep, date = value.partition(":")
    try:
        return int(number), dt.date.fromisoformat(date)
    except ValueError:
        raise CommandError(
            f"--round {value!r}: expected NUMBER:YYYY-MM-DD, e.g. 1:2024-06-30"
        ) from None


class Command(ImportCommand):
    help = "Create an election and its rounds; prints its id in a JSON line. Idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--kind", required=True, help="legislatives, municipales, ...")
        parser.add_argument("--name", required=True)
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--round", action="append", type=round_spec, default=[],
                            help="NUMBER:YYYY-MM-DD (repeatable)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        def run() -> dict[str, Any]:
            election = create_election(
                actor=None,
                kind=options["kind"],
                name=options["name"],
                year=options["year"],
                rounds=options["round"],
            )
            return {
                "election": election.pk,
                "rounds": {r.number: r.pk for r in election.rounds.all()},
            }

        self.run_service(run)
