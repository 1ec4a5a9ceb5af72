"""The canvasser app, mounted at /terrain/."""

from django.urls import path

from canvassing import views

urlpatterns = [
    path("", views.home, name="terrain_home"),
    path("sw.js", views.service_worker, name="terrain_sw"),
    path("turf/<int:turf_id>/", views.turf, name="terrain_turf"),
    path("api/turf/<int:turf_id>/", views.turf_data, name="terrain_turf_data"),
    path("api/sync/", views.sync_records, name="terrain_sync"),
    path("appels/<int:campaign_id>/", views.phone_next, name="terrain_phone"),
    path(
        "appels/<int:campaign_id>/<int:target_id>/",
        views.phone_record,
        name="terrain_phone_record",
    ),
]
