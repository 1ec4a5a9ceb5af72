from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("Donations")

    def ready(self) -> None:
        from crm.gdpr import OnErase, register, register_eraser
        from donations import models as m

        # Gifts are finance records the law requires (CNCCFP): kept, detached from the person.
        register(m.Donation, "person", on_erase=OnErase.KEEP, campaign_field="campaign")
        register(m.RecurringGift, "person", on_erase=OnErase.KEEP, campaign_field="campaign")
        register(m.DonationAttempt, "person", campaign_field="campaign")

        def forget_payment_details(person: object, emails: list[str], phones: list[str]) -> int:
            # The kept monthly gifts need no card brand or last digits for the accounts.
            return m.RecurringGift.objects.filter(person=person).update(
                payment_method_brand="", payment_method_last4=""
            )

        register_eraser("donations", forget_payment_details)
