"""Demo data of the platform itself: the admin account, the national team, the election.

`python manage.py demo` runs this first, then the `demo.load()` of each app that has one,
in `DEMO_APPS` order. Every loader is idempotent: running the demo twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TextIO

from django.db import transaction

from cocarde.accounts.models import User
from cocarde.tenancy import services
from cocarde.tenancy.models import Campaign, StaffRole
from territory.models import Election, ElectionRound

ADMIN_EMAIL = "admin@cocarde.localhost"
NATIONAL_SLUG = "national"


def demo_admin_password() -> str:
    return os.environ.get("DEMO_ADMIN_PASSWORD", "cocarde-demo-2026")


@transaction.atomic
def load(*, stdout: TextIO) -> None:
    admin = User.objects.filter(email=ADMIN_EMAIL).first()
    if admin is None:
        admin = services.create_user(
            ADMIN_EMAIL,
            actor=None,
            password=demo_admin_password(),
            first_name="Admin",
            last_name="Démo",
            email_verified=True,
        )
        stdout.write(f"Created the demo admin {ADMIN_EMAIL}\n")

    election, _ = Election.objects.get_or_create(
        country="FR", kind=Election.Kind.LEGISLATIVE, year=2027, name="Élections législatives 2027"
    )
    for number, date in ((1, dt.date(2027, 6, 13)), (2, dt.date(2027, 6, 20))):
        ElectionRound.objects.get_or_create(
            election=election, number=number, defaults={"date": date}
        )

    national = Campaign.objects.filter(slug=NATIONAL_SLUG).first()
    if national is None:
        national = services.create_campaign(
            actor=admin,
            name="Parti Cocarde (national)",
            slug=NATIONAL_SLUG,
            kind=Campaign.Kind.NATIONAL,
            legal_framework=Campaign.LegalFramework.FR_PARTY,
            contact_email="contact@cocarde.localhost",
            legal_entity_name="Parti Cocarde (association de démonstration)",
            legal_address="1 rue de la République, 41000 Blois",
            publication_director="Camille Martin",
            financial_agent_name="Association de financement du Parti Cocarde",
            host_details="Hébergeur de démonstration, 2 rue du Serveur, 75000 Paris",
        )
    services.grant_role(admin, national, StaffRole.Role.NATIONAL_ADMIN, actor=admin)
