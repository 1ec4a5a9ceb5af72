"""Recompute a forecast (e.g. after importing new results): `compute_forecast ID`. Prints one
JSON summary line."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from territory.intelligence.models import Forecast
from territory.intelligence.services.forecasting import ForecastError, compute_forecast


class Command(BaseCommand):
    help = "Recompute a forecast per polling station, its backtest and its ranking."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("forecast_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        forecast = Forecast.objects.filter(pk=options["forecast_id"]).first()
        if forecast is None:
            raise CommandError(f"no forecast {options['forecast_id']}")
        try:
            forecast = compute_forecast(forecast, actor=None)
        except ForecastError as error:
            raise CommandError(str(error)) from None
        summary = forecast.summary
        self.stdout.write(
            json.dumps(
                {
                    "forecast": forecast.pk,
                    "bureaux": summary["bureaux"],
                    "turnout_backtest": summary["turnout"]["backtest"],
                    "share_backtest": (summary.get("share") or {}).get("backtest"),
                    "warnings": summary["warnings"],
                }
            )
        )
