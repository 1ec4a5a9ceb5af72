from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CocardeConfig(AppConfig):
    name = "cocarde"
    verbose_name = _("Cocarde")

    def ready(self) -> None:
        from cocarde import checks  # noqa: F401  (registers system checks)
