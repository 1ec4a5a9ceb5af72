"""Public CRM pages, mounted at /crm/ on every site (cocarde/urls.py)."""

from django.urls import path

from crm.views import public

app_name = "crm"
urlpatterns = [
    path("moi/", public.request_link, name="request_link"),
    path("moi/<str:token>/", public.my_data, name="my_data"),
    path("moi/<str:token>/export.json", public.my_data_export, name="my_data_export"),
    path("desabonnement/<str:token>/", public.unsubscribe, name="unsubscribe"),
    path("confirmer/<str:token>/", public.confirm, name="confirm"),
    path("anti-spam/", public.pow_challenge, name="pow_challenge"),
]
