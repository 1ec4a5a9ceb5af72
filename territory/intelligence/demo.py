"""Territory intelligence demo, on the fictional commune 41998 of the territory demo: a sample
layer of social-housing buildings, past municipal results generated from a known model (the
commune is fictional, so are they) and a forecast for the next municipal election. Idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from django.db import transaction

from cocarde.tenancy.models import Campaign
from territory.intelligence.models import Forecast, Layer
from territory.intelligence.selectors import layer_values
from territory.intelligence.services.forecasting import compute_forecast, create_forecast
from territory.intelligence.services.layers import import_layer
from territory.intelligence.synthetic import generate_history
from territory.models import Election
from territory.selectors import campaign_bureaux

SAMPLE_LAYER = Path(__file__).resolve().parent / "fixtures" / "logements-sociaux-41998.csv"
LAYER_NAME = "Logements sociaux"
FORECAST_NAME = "Municipales 2026 : participation et liste de gauche"
DEMO_COMMUNE = "41998"


def import_sample_layer(campaign: Campaign) -> Layer:
    return import_layer(
        SAMPLE_LAYER.read_bytes(),
        actor=None,
        filename=SAMPLE_LAYER.name,
        name=LAYER_NAME,
        campaign=campaign,
        description="Bâtiments de logement social de la commune (exemple).",
        color="#e7298a",
    )


def sample_forecast(campaign: Campaign, layer: Layer) -> Forecast:
    bureaux = list(campaign_bureaux(campaign).order_by("code"))
    share = layer_values(layer, "share", [b.pk for b in bureaux])
    generate_history(bureaux, {b: v or 0.0 for b, v in share.items()})
    existing = Forecast.objects.filter(campaign=campaign, name=FORECAST_NAME).first()
    if existing is not None and existing.computed_at is not None:
        return existing  # idempotent: a second run changes nothing
    if existing is not None:
        return compute_forecast(existing, actor=None)
    return create_forecast(
        actor=None,
        campaign=campaign,
        layers=[layer],
        name=FORECAST_NAME,
        election_kind=Election.Kind.MUNICIPAL,
        nuances=["DVG"],
        reachable_share=0.15,
    )


def _demo_campaign() -> Any:
    # In Python, not `commune_codes__contains`: JSON containment is not on SQLite (`make run`).
    return next(
        (
            c
            for c in Campaign.objects.filter(is_active=True).order_by("pk")
            if DEMO_COMMUNE in (c.commune_codes or [])
        ),
        None,
    )


@transaction.atomic
def load(*, stdout: TextIO) -> None:
    campaign = _demo_campaign()
    if campaign is None:
        stdout.write("Territory intelligence demo skipped: no campaign covers 41998\n")
        return
    layer = import_sample_layer(campaign)
    forecast = sample_forecast(campaign, layer)
    stdout.write(
        f"Territory intelligence demo: layer “{layer.name}” ({layer.feature_count} buildings, "
        f"{len(layer.unplaced)} not placed), forecast “{forecast.name}” "
        f"({forecast.bureaux.count()} polling stations)\n"
    )
