"""Public donation URLs, mounted at /donations/ on every site."""

from django.urls import path

from donations import views

app_name = "donations"
urlpatterns = [
    path("stripe/webhook/<int:campaign_id>/", views.stripe_webhook, name="stripe_webhook"),
    path("page/<int:page_id>/status/", views.status, name="status"),
    path("page/<int:page_id>/start/", views.start, name="start"),
    path("tentative/<uuid:attempt>/", views.attempt_status, name="attempt_status"),
    path("tentative/<uuid:attempt>/mensuel/", views.subscribe, name="subscribe"),
    path("mensuel/<str:token>/", views.manage_monthly, name="manage_monthly"),
    path("mensuel/<str:token>/carte/", views.change_card, name="change_card"),
]
