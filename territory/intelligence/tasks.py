"""Background work of territory intelligence. Thin and idempotent: computing a forecast twice
gives the same rows."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from territory.intelligence.models import Forecast
from territory.intelligence.services.forecasting import ForecastError, compute_forecast


@shared_task(name="territory.intelligence.tasks.bulk_compute_forecast")
def bulk_compute_forecast(forecast_id: int, user_id: int | None = None) -> bool:
    forecast = Forecast.objects.filter(pk=forecast_id).first()
    if forecast is None:  # deleted meanwhile
        return False
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    try:
        compute_forecast(forecast, actor=user)
    except ForecastError as error:
        Forecast.objects.filter(pk=forecast_id).update(summary={"error": str(error)})
        return False
    return True
