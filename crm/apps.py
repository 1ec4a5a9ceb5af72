from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("People (CRM)")

    def ready(self) -> None:
        from crm.gdpr import register_crm_models

        register_crm_models()
