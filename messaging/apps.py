from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Email and SMS")

    def ready(self) -> None:
        # Anymail reports its ESPs' tracking webhooks through a signal: one receiver, which
        # calls the same service as our own webhooks.
        from anymail.signals import tracking

        from messaging.services.events import on_anymail_tracking

        tracking.connect(on_anymail_tracking, dispatch_uid="messaging.anymail_tracking")

        from crm.gdpr import register, register_eraser
        from messaging.models import Delivery
        from messaging.services.erasure import erase_messages

        # A person's deliveries are in their access export and go with them on erasure, with
        # the outbox copies and provider payloads that name them by address.
        register(Delivery, "person", campaign_field="blast__campaign", exclude=("claimed_by",))
        register_eraser("messaging", erase_messages)
