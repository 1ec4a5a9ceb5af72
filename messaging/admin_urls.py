"""Messaging screens, mounted under /admin/messaging/ by messaging.wagtail_hooks."""

from django.urls import path

from messaging import admin_views as views

urlpatterns = [
    path("", views.blast_list, name="messaging_blasts"),
    path("new/", views.blast_compose, name="messaging_blast_new"),
    path("<int:pk>/", views.blast_detail, name="messaging_blast"),
    path("<int:pk>/edit/", views.blast_compose, name="messaging_blast_edit"),
    path("<int:pk>/preview/", views.blast_preview, name="messaging_blast_preview"),
    path("<int:pk>/<slug:action>/", views.blast_action, name="messaging_blast_action"),
    path("outbox/", views.outbox_list, name="messaging_outbox"),
    path("outbox/<int:pk>/", views.outbox_detail, name="messaging_outbox_message"),
    path("senders/", views.sender_list, name="messaging_senders"),
]
