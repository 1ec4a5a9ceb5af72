"""Import electoral rolls, members files and other tables from the command line.

    python manage.py import_people com41998-LP.csv com41998-LCM.csv --campaign demo-blois

Ends with one JSON line: {"rows", "created", "updated", "duplicates_in_file", "to_review",
"errors", "report"} (totals over every file; the report lists every rejected row).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cocarde.tenancy.models import Campaign
from crm.imports import services
from crm.models import ImportFormat, LegalBasis

COUNTS = ("rows", "created", "updated", "duplicates_in_file", "to_review", "errors")


class Command(BaseCommand):
    help = "Import electoral rolls (REU, 2013 layout), members files and tables (CSV, XLSX, ODS)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--campaign", metavar="SLUG", help="campaign the people join")
        parser.add_argument(
            "--format", default=ImportFormat.AUTO, choices=list(ImportFormat.values)
        )
        parser.add_argument(
            "--mapping",
            metavar="FILE",
            help='JSON {"column header": "field"} for tables (see crm.imports.columns.FIELDS)',
        )
        parser.add_argument("--tag", action="append", default=[], metavar="TAG")
        parser.add_argument("--dry-run", action="store_true", help="count, write nothing")
        parser.add_argument(
            "--legal-basis",
            choices=list(LegalBasis.values),
            help="default: electoral_roll for rolls, membership for tables",
        )
        parser.add_argument("--id-source", default="members", help="source of the id column")
        parser.add_argument("--report", metavar="FILE", help="where to write the report (CSV)")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(slug=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"--campaign: no campaign with slug {options['campaign']!r}")
        mapping = None
        if options["mapping"]:
            try:
                mapping = json.loads(Path(options["mapping"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise CommandError(
                    f"--mapping: cannot read {options['mapping']}: {error}"
                ) from error
            if not isinstance(mapping, dict):
                raise CommandError('--mapping: expected a JSON object {"header": "field"}')
        totals = dict.fromkeys(COUNTS, 0)
        runs = []
        refused = 0
        for name in options["paths"]:
            path = Path(name)
            if not path.is_file():
                self.stderr.write(f"{name}: no such file")
                refused += 1
                continue
            try:
                with path.open("rb") as handle:
                    run = services.create_import(
                        actor=None,
                        campaign=campaign,
                        file=handle,
                        original_name=path.name,
                        requested_format=options["format"],
                        legal_basis=options["legal_basis"] or "",
                        tags=options["tag"],
                        mapping=mapping,
                        external_id_source=options["id_source"],
                    )
            except ValidationError as error:
                self.stderr.write(f"{name}: refused: {' '.join(error.messages)}")
                refused += 1
                continue
            if run.detected_format == ImportFormat.TABLE and not run.mapping:
                self.stderr.write(
                    f"{name}: refused: no column was recognised; give --mapping "
                    f"(headers: {', '.join(run.headers[:10])})"
                )
                refused += 1
                continue
            run = services.execute_import(run, dry_run=options["dry_run"])
            if run.status == run.Status.FAILED:
                self.stderr.write(f"{name}: {run.error_message}")
                refused += 1
            self.stderr.write(
                f"{name}: {run.get_detected_format_display()}, "
                f"{run.file_info.get('encoding') or run.file_info.get('kind')}: "
                + ", ".join(f"{k} {v}" for k, v in run.counts.items())
            )
            runs.append(run)
            for key in COUNTS:
                totals[key] += getattr(run, key)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        report = Path(
            options["report"]
            or Path(settings.MEDIA_ROOT) / "imports" / "reports" / f"import-{stamp}.csv"
        )
        services.write_report(runs, report)
        self.stdout.write(json.dumps({**totals, "report": str(report)}))
        if refused:
            raise SystemExit(1)
