from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanvassingConfig(AppConfig):
    name = "canvassing"
    verbose_name = _("Field campaigns")

    def ready(self) -> None:
        from canvassing import models as m
        from crm.gdpr import register

        # Access exports and erasure (crm.gdpr): a person's doors, door results (answers and
        # notes are opinions) and places in call queues go with them.
        register(m.Resident, "person", campaign_field="door__building__door_campaign__campaign")
        register(
            m.Visit,
            "person",
            campaign_field="door_campaign__campaign",
            sensitive=("answers", "note", "support_level"),
        )
        register(m.PhoneTarget, "person", campaign_field="phone_campaign__campaign")
