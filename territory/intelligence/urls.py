"""Admin URLs of territory intelligence (mounted under /admin/ by wagtail_hooks)."""

from django.urls import path

from territory.intelligence import views

urlpatterns = [
    path("intelligence/", views.index, name="intelligence_index"),
    path("intelligence/<int:campaign_id>/layers/new/", views.layer_import,
         name="intelligence_layer_import"),
    path("intelligence/<int:campaign_id>/layers/<int:layer_id>/", views.layer_detail,
         name="intelligence_layer"),
    path("intelligence/<int:campaign_id>/layers/<int:layer_id>/delete/", views.layer_delete,
         name="intelligence_layer_delete"),
    path("intelligence/<int:campaign_id>/layers/<int:layer_id>.geojson", views.layer_geojson,
         name="intelligence_layer_geojson"),
    path("intelligence/<int:campaign_id>/forecasts/new/", views.forecast_edit,
         name="intelligence_forecast_new"),
    path("intelligence/<int:campaign_id>/forecasts/<int:forecast_id>/", views.forecast_detail,
         name="intelligence_forecast"),
    path("intelligence/<int:campaign_id>/forecasts/<int:forecast_id>/edit/", views.forecast_edit,
         name="intelligence_forecast_edit"),
    path("intelligence/<int:campaign_id>/transfers/", views.transfers,
         name="intelligence_transfers"),
    path("intelligence/<int:campaign_id>/transfers/<int:study_id>/", views.transfer_detail,
         name="intelligence_transfer"),
]  # fmt: skip
