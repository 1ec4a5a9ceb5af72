"""Demo segments for each demo campaign: a few saved filters and a frozen list. Idempotent."""

from __future__ import annotations

from typing import Any, TextIO

from django.db import transaction

from cocarde.tenancy.models import Campaign
from crm.models import Segment, Tag
from crm.segments import services


def _criteria(campaign: Campaign) -> list[tuple[str, str, dict[str, Any]]]:
    tags = {t.name: t.pk for t in Tag.objects.filter(campaign=campaign)}

    def leaf(name: str, **params: Any) -> dict[str, Any]:
        return {"criterion": name, "params": params}

    found = []
    if "Bénévole" in tags:
        found.append(
            (
                "Bénévoles sans action depuis 90 jours",
                "À relancer pour la prochaine sortie de porte-à-porte.",
                {"op": "and", "children": [
                    leaf("tags", match="any", tags=[tags["Bénévole"]]),
                    {"op": "not", "children": [
                        leaf("action", type="volunteer", within_days=90),
                    ]},
                ]},
            )
        )  # fmt: skip
    found.append(
        (
            "Jeunes joignables par e-mail",
            "18-30 ans, adresse valide et consentement aux nouvelles.",
            {"op": "and", "children": [
                leaf("age", min=18, max=30),
                leaf("contactable", channel="email", purpose="news"),
            ]},
        )
    )  # fmt: skip
    if "Quartier centre" in tags:
        found.append(
            (
                "Soutiens du centre-ville",
                "",
                {"op": "and", "children": [
                    leaf("tags", match="any", tags=[tags["Quartier centre"]]),
                    leaf("support_level", levels=[1, 2]),
                ]},
            )
        )  # fmt: skip
    return found


@transaction.atomic
def load(*, stdout: TextIO) -> None:
    made = 0
    for campaign in Campaign.objects.filter(kind=Campaign.Kind.CANDIDATE, is_active=True)[:4]:
        for name, description, criteria in _criteria(campaign):
            if Segment.objects.filter(campaign=campaign, name=name).exists():
                continue
            segment = services.create_segment(
                actor=None, campaign=campaign, name=name, criteria=criteria, description=description
            )
            services.count(segment)
            made += 1
            if name.startswith("Bénévoles"):
                services.freeze(segment, actor=None, name=f"{name} (liste figée)")
    if made:
        stdout.write(f"Created {made} demo segments\n")
