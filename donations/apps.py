from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("Donations")

    def ready(self) -> None:
        from crm.gdpr import OnErase, register
        from donations import models as m

        # Gifts are finance records the law requires (CNCCFP): kept, detached from the person.
        register(m.Donation, "person", on_erase=OnErase.KEEP, campaign_field="campaign")
        register(m.RecurringGift, "person", on_erase=OnErase.KEEP, campaign_field="campaign")
        register(m.DonationAttempt, "person", campaign_field="campaign")
