"""Admin URLs of candidate sites, mounted under /admin/candidate-sites/ by wagtail_hooks."""

from django.urls import path

from sites import views

app_name = "sites_admin"

urlpatterns = [
    path("new/", views.NewSiteView.as_view(), name="new_site"),
    path("created/<int:site_id>/", views.SiteCreatedView.as_view(), name="site_created"),
    path("bulk/", views.BulkCloneView.as_view(), name="bulk_clone"),
    path("bulk/<int:job_id>/", views.BulkCloneJobView.as_view(), name="bulk_job"),
    path("sync/", views.SyncRunsView.as_view(), name="sync_runs"),
    path("review/", views.ConflictsView.as_view(), name="conflicts"),
    path("review/<int:conflict_id>/", views.ConflictView.as_view(), name="conflict"),
    path(
        "pages/<int:page_id>/<str:action>/",
        views.TemplatePageActionView.as_view(),
        name="page_action",
    ),
    path("answers/", views.SubmissionsView.as_view(), name="submissions"),
]
