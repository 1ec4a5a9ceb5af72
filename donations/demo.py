"""Demo donations (idempotent): on each demo candidate campaign a declared financial agent, a
CNCCFP receipt range, test-mode online gifts recorded through the webhook's own services (no
network: the payments are what Stripe would have sent), one cheque and their receipts.

No Stripe keys are stored: without test keys the pages say online giving is not available yet;
set them in the admin (Donations > Payment account) to try the form against Stripe's test mode.
"""

from __future__ import annotations

import datetime as dt
from typing import TextIO

from django.utils import timezone

from cocarde.tenancy.models import Campaign
from donations.models import Donation, DonationAttempt, ReceiptRange
from donations.services import ledger, receipts

DONORS = [
    ("Mme", "Claire", "Moreau", 5000),
    ("M.", "Julien", "Petit", 2000),
    ("Mme", "Nadia", "Haddad", 10000),
    ("M.", "Louis", "Garnier", 3000),
    ("Mme", "Émilie", "Roux", 15000),
]


def load(*, stdout: TextIO) -> None:
    campaigns = Campaign.objects.filter(kind=Campaign.Kind.CANDIDATE, site_links__isnull=False)
    for number, campaign in enumerate(campaigns.distinct().order_by("pk")):
        _campaign(campaign, number, stdout)


def _donors(campaign: Campaign) -> list[tuple[dict[str, object], int]]:
    """The campaign's first supporters with an email in the CRM (the demo's story: people of
    the members file give), else fictitious donors; one more for the cheque."""
    from crm.models import Person

    people = list(
        Person.objects.filter(attachments__campaign=campaign, emails__isnull=False)
        .distinct()
        .order_by("pk")[: len(DONORS) + 1]
    )
    result = []
    for index in range(len(DONORS) + 1):
        civility, first_name, last_name, amount = DONORS[index % len(DONORS)]
        email = f"{first_name.lower()}.{last_name.lower()}{index}@donateurs.example.org"
        if index < len(people):
            person = people[index]
            first_name = (person.first_names or first_name).split(" ")[0]
            last_name = person.usage_name or person.birth_name or last_name
            email = person.emails.order_by("pk").values_list("email", flat=True).first() or email
        result.append(
            (
                {
                    "civility": civility,
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": email,
                    "street": f"{index + 3} rue de la République",
                    "postcode": "41000",
                    "city": "Blois",
                    "country": "FR",
                    "natural_person": True,
                    "french_or_resident": True,
                },
                amount if index < len(DONORS) else 25000,
            )
        )
    return result


def _campaign(campaign: Campaign, number: int, stdout: TextIO) -> None:
    if not campaign.financial_agent_name:
        campaign.financial_agent_name = f"Mandataire financier de {campaign.name}"
        campaign.financial_agent_address = "2 place de la Mairie, 41000 Blois"
        campaign.financial_agent_declared_on = dt.date(2026, 9, 1)
        campaign.save(
            update_fields=[
                "financial_agent_name",
                "financial_agent_address",
                "financial_agent_declared_on",
            ]
        )
    if not ReceiptRange.objects.filter(campaign=campaign).exists():
        first = 1000 * (number + 1)
        receipts.add_range(campaign, first, first + 499, actor=None)
    created = 0
    now = timezone.now()
    identities = _donors(campaign)
    for index, (identity, amount) in enumerate(identities[: len(DONORS)]):
        token = f"demo-{campaign.pk}-{index}"
        if DonationAttempt.objects.filter(form_token=token).exists():
            continue
        person = ledger.find_donor(identity, campaign=campaign, source="demo")
        attempt = DonationAttempt.objects.create(
            form_token=token,
            campaign=campaign,
            person=person,
            amount_cents=amount,
            payment_intent_id=f"pi_demo_{campaign.pk}_{index}",
            status=DonationAttempt.Status.PENDING,
            **identity,
        )
        ledger.apply_payment_succeeded(
            campaign,
            {
                "id": attempt.payment_intent_id,
                "object": "payment_intent",
                "amount": amount,
                "status": "succeeded",
                "livemode": False,
                "created": int((now - dt.timedelta(days=9 * index)).timestamp()),
                "metadata": {"campaign": str(campaign.pk), "attempt": str(attempt.uuid)},
            },
        )
        created += 1
    reference = f"DEMO-CHQ-{campaign.pk}"
    if not Donation.objects.filter(campaign=campaign, reference=reference).exists():
        ledger.record_offline_gift(
            campaign=campaign,
            identity=identities[-1][0],
            amount_cents=25000,
            method="cheque",
            received_on=timezone.localdate(),
            actor=None,
            reference=reference,
        )
        created += 1
    if created:
        stdout.write(f"Recorded {created} test-mode gifts and their receipts for {campaign}\n")
