from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerritoryConfig(AppConfig):
    name = "territory"
    verbose_name = _("Territory")

    def ready(self) -> None:
        from crm.gdpr import register
        from territory.models import PersonLocation

        # Where a person lives and votes, as geocoding found it: exported on access requests,
        # deleted with the person (cascade).
        register(PersonLocation, "person")
