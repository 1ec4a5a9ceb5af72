"""Admin URLs of the territory app (mounted under /admin/ by wagtail_hooks)."""

from django.urls import path

from territory import views

urlpatterns = [
    path("territory/map/", views.map_view, name="territory_map"),
    path("territory/imports/", views.imports_view, name="territory_imports"),
    path("territory/imports/<int:import_id>/", views.import_detail, name="territory_import"),
    path("territory/<int:campaign_id>/bureaux.json", views.map_data, name="territory_map_data"),
    path(
        "territory/<int:campaign_id>/people.json", views.people_data, name="territory_people_data"
    ),
    path(
        "territory/<int:campaign_id>/bureau/<int:bureau_id>/",
        views.bureau_card,
        name="territory_bureau_card",
    ),
    path("territory/<int:campaign_id>/targets/", views.targets_view, name="territory_targets"),
]
