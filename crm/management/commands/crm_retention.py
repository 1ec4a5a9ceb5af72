"""`python manage.py crm_retention [--apply]`: the retention dry-run report, or its application."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from crm.models import RetentionRule
from crm.services.retention import apply_retention, plan_retention


class Command(BaseCommand):
    help = "Report what each campaign's retention rule would remove (default), or apply it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--apply", action="store_true", help="apply the rules that are due")

    def handle(self, *args: Any, **options: Any) -> None:
        for rule in RetentionRule.objects.select_related("campaign"):
            plan = apply_retention(rule, actor=None) if options["apply"] else plan_retention(rule)
            verb = "removed" if options["apply"] else "would remove"
            if not plan.due:
                self.stdout.write(
                    f"{rule.campaign}: not due ({plan.reason}, from {plan.due_since})"
                )
                continue
            self.stdout.write(
                f"{rule.campaign}: {verb} {plan.detach_count} from the campaign, "
                f"erase {plan.erase_count}"
            )
