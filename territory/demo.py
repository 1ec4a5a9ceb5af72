"""Territory demo: the fictional commune of Montrichard-sur-Cher (41998) with its polling
stations, two rounds of results (classic and numbered layouts), INSEE IRIS figures and
contours, and BAN addresses, so `make run` shows a coloured map. Idempotent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TextIO

from django.db import transaction

from cocarde.tenancy import services as tenancy_services
from cocarde.tenancy.models import Campaign
from territory.models import Election, ElectionRound
from territory.services.addresses import import_ban, import_bureau_table
from territory.services.insee import import_insee
from territory.services.people import geocode_people
from territory.services.results import import_results
from territory.services.zones import load_communes

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEMO_COMMUNE = "41998"
DEMO_CAMPAIGN_SLUG = "demo-montrichard"


@transaction.atomic
def load(*, stdout: TextIO) -> None:
    load_communes(actor=None, departements=["41"])
    election, _ = Election.objects.get_or_create(
        country="FR",
        kind=Election.Kind.LEGISLATIVE,
        year=2024,
        name="Élections législatives 2024 (démo)",
    )
    rounds = {}
    for number, date in ((1, dt.date(2024, 6, 30)), (2, dt.date(2024, 7, 7))):
        rounds[number], _ = ElectionRound.objects.get_or_create(
            election=election, number=number, defaults={"date": date}
        )
    # IRIS contours first: they bound the contours drawn from voter addresses.
    import_insee(FIXTURES / "contours-iris-41998.geojson", actor=None)
    import_insee(FIXTURES / "base-ic-evol-struct-pop-2021-extrait.csv", actor=None)
    import_ban(FIXTURES / "adresses-41998.csv", actor=None, communes=[DEMO_COMMUNE])
    import_bureau_table(FIXTURES / "table-bv-reu-41998.csv", actor=None)
    import_bureau_table(FIXTURES / "table-adresses-reu-41998.csv", actor=None)
    import_results([FIXTURES / "Leg_T1_resultats_bv.txt"], election_round=rounds[1], actor=None)
    import_results([FIXTURES / "resultats-T2-bv.csv"], election_round=rounds[2], actor=None)

    # The candidate of the sample commune (the sites demo makes one) owns the map; a campaign is
    # created only when no demo campaign covers the commune.
    covered = any(
        DEMO_COMMUNE in (codes or [])
        for codes in Campaign.objects.filter(is_active=True).values_list("commune_codes", flat=True)
    )
    if not covered:
        national = Campaign.objects.filter(kind=Campaign.Kind.NATIONAL).order_by("pk").first()
        tenancy_services.create_campaign(
            actor=None,
            name="Montrichard-sur-Cher 2027 (démo)",
            slug=DEMO_CAMPAIGN_SLUG,
            kind=Campaign.Kind.CANDIDATE,
            parent=national,
            commune_codes=[DEMO_COMMUNE],
            circonscription_code="41-02",
        )
        stdout.write("Created the demo campaign of Montrichard-sur-Cher (territory map)\n")
    # The CRM demo (run before this one) imported the sample roll: place its people on the map.
    summary = geocode_people(actor=None)
    stdout.write(
        "Territory demo: 6 polling stations of 41998 with results, INSEE and addresses; "
        f"{summary['people']} people geocoded ({summary['housenumber']} at the house number)\n"
    )
