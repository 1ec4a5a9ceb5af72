"""Recompute approximate bureau contours from voter addresses."""

from __future__ import annotations

from typing import Any

from territory.management.commands._base import ImportCommand
from territory.services.contours import compute_contours


class Command(ImportCommand):
    help = (
        "Compute approximate contours of the bureaux of these communes from their voter "
        "addresses (Voronoi cells merged per bureau). Imported contours are kept unless --force."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--commune", action="append", dest="communes", required=True)
        parser.add_argument("--force", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_service(
            lambda: compute_contours(options["communes"], actor=None, force=options["force"])
        )
