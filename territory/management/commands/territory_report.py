"""Per-bureau report of a commune: results of each imported round, contacts and target score."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from cocarde.tenancy.models import Campaign
from territory.formats.common import FormatError
from territory.reports import commune_report


class Command(BaseCommand):
    help = (
        "Per bureau de vote of a commune: registered voters, abstention rate and votes per "
        "candidate for each imported round, our contacts, and the target score (see "
        "territory/targeting.py for the formula)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--commune", required=True, help="INSEE code, e.g. 41998.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")
        parser.add_argument("--round", type=int, help="Round id the score uses (default: latest).")
        parser.add_argument(
            "--candidate",
            action="append",
            default=[],
            help="Candidacy id or last name whose share counts (repeatable).",
        )
        parser.add_argument(
            "--nuance",
            action="append",
            default=[],
            help="Nuance whose share counts, e.g. SOC (repeatable).",
        )
        parser.add_argument("--campaign", help="Campaign slug, for its contacts.")
        parser.add_argument("--weight-abstention", type=float, default=1.0)
        parser.add_argument("--weight-share", type=float, default=1.0)
        parser.add_argument("--weight-contacts", type=float, default=0.5)  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(slug=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"--campaign: no campaign {options['campaign']!r}")
        try:
            report = commune_report(
                options["commune"],
                round_id=options["round"],
                candidates=options["candidate"],
                nuances=options["nuance"],
                weights={
                    "weight_abstention": options["weight_abstention"],
                    "weight_share": options["weight_share"],
                    "weight_contacts": options["weight_contacts"],
                },
                campaign=campaign,
            )
        except (FormatError, ValueError) as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, sort_keys=True))
            return
        commune = report["commune"]
        self.stdout.write(f"{commune['name']} ({commune['code']})")
        for row in report["bureaux"]:
            rate = row["abstention_rate"]
            self.stdout.write(
                f"  {row['number']} {row['label'][:30]:<30}"
                f"  registered {row['registered'] or '-':>6}"
                f"  abstention {f'{rate:.1%}' if rate is not None else '-':>6}"
                f"  score {row['score'] if row['score'] is not None else '-'}"
            )
