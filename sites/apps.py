from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SitesConfig(AppConfig):
    name = "sites"
    verbose_name = _("Candidate sites")

    def ready(self) -> None:
        from sites import signals  # noqa: F401  (page cache invalidation)
