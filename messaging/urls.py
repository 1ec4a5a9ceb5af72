"""Public messaging URLs, mounted at /m/ (cocarde/urls.py)."""

from django.urls import include, path

from messaging import views

app_name = "messaging"
urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>/", views.preferences, name="preferences"),
    path("sendgrid/events/", views.sendgrid_events, name="sendgrid_events"),
    path("twilio/status/", views.twilio_status, name="twilio_status"),
    path("twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    # Anymail's tracking webhooks, e.g. /m/anymail/brevo/tracking/ (basic-auth secret).
    path("anymail/", include("anymail.urls")),
]
