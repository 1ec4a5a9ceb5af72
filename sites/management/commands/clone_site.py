"""Clone a template site for a candidate; prints one JSON line describing the new site."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cocarde.accounts.models import User
from sites.models import CampaignSite
from sites.services.cloning import CloneError, clone_site


class Command(BaseCommand):
    help = "Clone a national template site for a candidate (one transaction)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--template", required=True, help="Host name of the template site")
        parser.add_argument("--name", required=True, help="The candidate's full name")
        parser.add_argument("--hostname", required=True, help="Host name of the new site")
        parser.add_argument("--port", type=int, default=80)
        parser.add_argument("--campaign-slug", default="")
        parser.add_argument("--theme", default="")
        parser.add_argument(
            "--commune", action="append", default=[], help="INSEE code; repeat for several"
        )
        parser.add_argument("--commune-name", default="", help="Replaces {{ commune }}")
        parser.add_argument("--circonscription", default="", help="e.g. 41-01")
        parser.add_argument(
            "--circonscription-name", default="", help="Replaces {{ circonscription }}"
        )
        parser.add_argument("--contact-email", default="")
        parser.add_argument("--party-name", default="")
        parser.add_argument("--draft", action="store_true", help="Leave every page unpublished")
        parser.add_argument("--actor", default="", help="Email of the user recorded as author")

    def handle(self, *args: Any, **options: Any) -> None:
        template = CampaignSite.objects.filter(
            site__hostname=options["template"], is_template=True
        ).first()
        if template is None:
            raise CommandError(f"--template: no template site answers on {options['template']}")
        actor = User.objects.filter(email=options["actor"]).first() if options["actor"] else None
        try:
            result = clone_site(
                actor=actor,
                template=template,
                candidate_name=options["name"],
                hostname=options["hostname"],
                port=options["port"],
                campaign_slug=options["campaign_slug"],
                theme=options["theme"],
                commune_codes=[code.upper() for code in options["commune"]],
                commune_name=options["commune_name"],
                circonscription_code=options["circonscription"],
                circonscription_name=options["circonscription_name"],
                contact_email=options["contact_email"],
                party_name=options["party_name"],
                publish=not options["draft"],
            )
        except CloneError as error:
            raise CommandError(
                f"--{error.field.replace('_', '-')}: {str(error).split(': ', 1)[-1]}"
            ) from error
        self.stdout.write(json.dumps(result.as_dict()))
