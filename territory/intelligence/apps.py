from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelligenceConfig(AppConfig):
    name = "territory.intelligence"
    label = "intelligence"
    verbose_name = _("Territory intelligence")

    def ready(self) -> None:
        # Segment criteria and map indicators plug into crm and territory through their registries.
        from territory.intelligence import criteria, indicators  # noqa: F401
