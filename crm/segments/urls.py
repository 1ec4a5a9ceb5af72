"""Segment screens, mounted under /admin/crm/segments/ by crm.wagtail_hooks."""

from django.urls import path

from crm.segments import views

urlpatterns = [
    path("", views.segment_list, name="crm_segments"),
    path("new/", views.segment_new, name="crm_segment_new"),
    path("preview/", views.segment_preview, name="crm_segment_preview"),
    path("<int:pk>/", views.segment_detail, name="crm_segment"),
    path("<int:pk>/edit/", views.segment_edit, name="crm_segment_edit"),
    path("<int:pk>/freeze/", views.segment_freeze, name="crm_segment_freeze"),
    path("<int:pk>/split/", views.segment_split, name="crm_segment_split"),
    path("<int:pk>/export.csv", views.segment_export, name="crm_segment_export"),
    path("<int:pk>/batch/", views.segment_batch, name="crm_segment_batch"),
    path("<int:pk>/delete/", views.segment_delete, name="crm_segment_delete"),
]
