"""Demo CRM: a few hundred fictional people spread across the demo campaigns, with consents,
tags, actions, notes and a few likely duplicates to review. Idempotent."""

from __future__ import annotations

import datetime as dt
import random
from typing import TextIO

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from cocarde.tenancy import services as tenancy_services
from cocarde.tenancy.models import Campaign
from crm.models import ActionType, CampaignAttachment, Interest, Person
from crm.services import people as people_services
from crm.services.consent import ConsentChoice, record_consent
from crm.services.matching import flag_duplicates

DEMO_SOURCE = "Démo Cocarde"
PEOPLE_PER_CAMPAIGN = 150
FIRST_NAMES = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Sarah",
    "Jade",
    "Louise",
    "Emma",
    "Zoé",
    "Lucas",
    "Hugo",
    "Louis",
    "Nathan",
    "Gabriel",
    "Jules",
    "Adam",
    "Yanis",
    "Karim",
    "Théo",
    "Marie-Hélène",
    "Jean-Pierre",
    "Aïcha",
    "Noémie",
    "Gaël",
    "François",
    "Élodie",
    "Mathis",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "Aït-Ali",
    "Da Silva",
    "N'Diaye",
    "Nguyen",
    "Fontaine",
    "Chevalier",
    "Rousseau",
]
STREETS = [
    "Rue Pasteur",
    "Avenue Jean Jaurès",
    "Rue Victor Hugo",
    "Allée des Tilleuls",
    "Place de la République",
    "Rue Saint-Nicolas",
    "Chemin des Vignes",
]
TOWNS = {
    "41018": ("41000", "Blois"),
    "41269": ("41100", "Vendôme"),
    "41998": ("41400", "Montrichard-sur-Cher"),
}
INTERESTS = ["Porte-à-porte", "Phoning", "Tractage", "Événements", "Réseaux sociaux"]
CONSENT_TEXT = (
    "J'accepte que {name} m'envoie des nouvelles de la campagne et des appels à agir par "
    "email. Je peux me désabonner à tout moment par le lien présent dans chaque message."
)
SMS_TEXT = "J'accepte de recevoir des SMS de {name}. Répondez STOP pour ne plus en recevoir."


def _demo_campaigns(stdout: TextIO) -> list[Campaign]:
    campaigns = list(Campaign.objects.filter(kind=Campaign.Kind.CANDIDATE, is_active=True)[:4])
    if campaigns:
        return campaigns
    national = Campaign.objects.filter(kind=Campaign.Kind.NATIONAL).first()
    for slug, name, communes in (
        ("demo-blois", "Camille Martin – Blois", ["41018"]),
        ("demo-vendome", "Karim Benali – Vendôme", ["41269", "41998"]),
    ):
        campaign = Campaign.objects.filter(slug=slug).first() or tenancy_services.create_campaign(
            actor=None,
            name=name,
            slug=slug,
            parent=national,
            commune_codes=communes,
            contact_email=f"equipe@{slug}.cocarde.localhost",
        )
        campaigns.append(campaign)
        stdout.write(f"Created the demo campaign {name}\n")
    return campaigns


def load(*, stdout: TextIO) -> None:
    from crm.segments import demo as segments_demo

    _load_people(stdout=stdout)
    segments_demo.load(stdout=stdout)


@transaction.atomic
def _load_people(*, stdout: TextIO) -> None:
    if Person.objects.filter(first_source=DEMO_SOURCE).exists():
        return
    rng = random.Random(2027)  # the same demo every time
    campaigns = _demo_campaigns(stdout)
    interests = [
        Interest.objects.get_or_create(slug=f"demo-{i}", defaults={"name": name})[0]
        for i, name in enumerate(INTERESTS)
    ]
    now = timezone.now()
    created: list[Person] = []
    serial = 0
    for campaign in campaigns:
        communes = [c for c in campaign.commune_codes if c in TOWNS] or list(TOWNS)[:1]
        for _ in range(PEOPLE_PER_CAMPAIGN):
            serial += 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            commune = rng.choice(communes)
            postcode, town = TOWNS[commune]
            email = f"{slugify(first)}.{slugify(last)}{serial}@exemple.org"
            has_full_date = rng.random() < 0.8
            year = rng.randint(1940, 2006)
            birth = (
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}"
                if has_full_date
                else str(year)
            )
            person = people_services.create_person(
                actor=None,
                campaign=campaign,
                reason=rng.choice(
                    [CampaignAttachment.Reason.SITE, CampaignAttachment.Reason.IMPORT]
                ),
                emails=[email] if rng.random() < 0.85 else [],
                phones=[f"06{rng.randint(10_000_000, 99_999_999)}"] if rng.random() < 0.6 else [],
                source=DEMO_SOURCE,
                first_names=first,
                birth_name=last,
                sex=rng.choice(["F", "M"]),
                birth_date=birth,
                street_number=str(rng.randint(1, 120)),
                street_name=rng.choice(STREETS),
                postcode=postcode,
                commune_code=commune,
                commune_name=town,
                polling_station_code=f"{rng.randint(1, 9):04d}",
                support_level=rng.choice([None, 1, 2, 2, 3, 4, 5]),
                supporter_status=rng.choice(
                    ["", "supporter", "supporter", "prospect", "non_supporter"]
                ),
                member_status=rng.choice(["", "", "", "member", "lapsed"]),
            )
            created.append(person)
            when = now - dt.timedelta(days=rng.randint(0, 300), minutes=rng.randint(0, 1440))
            action = rng.choice(
                [
                    ActionType.SIGNED_PETITION,
                    ActionType.SIGNED_UP,
                    ActionType.VOLUNTEERED,
                    ActionType.RSVPED,
                ]
            )
            people_services.record_action(
                person,
                action,
                campaign=campaign,
                occurred_at=when,
                source=f"https://{campaign.slug}.localhost/agir/",
            )
            if action == ActionType.VOLUNTEERED:
                person.interests.add(*rng.sample(interests, 2))
            if person.emails.exists() and rng.random() < 0.7:
                record_consent(
                    person,
                    campaign,
                    ConsentChoice("email", "news", CONSENT_TEXT.format(name=campaign.name)),
                    actor=None,
                    source_kind="web",
                    source_detail=f"https://{campaign.slug}.localhost/agir/",
                    at=when,
                )
            if person.phones.exists() and rng.random() < 0.4:
                record_consent(
                    person,
                    campaign,
                    ConsentChoice("sms", "news", SMS_TEXT.format(name=campaign.name)),
                    actor=None,
                    source_kind="web",
                    at=when,
                )
            tags = rng.sample(
                ["Pétition écoles", "Bénévole", "Quartier centre", "Jeunes", "Commerçant"], 2
            )
            people_services.add_tags(person, tags, campaign=campaign, actor=None)
            if rng.random() < 0.1:
                people_services.add_note(
                    person,
                    "Rencontré au marché, souhaite être recontacté·e.",
                    campaign=campaign,
                    actor=None,
                )
    # A few people act for two campaigns, and a few likely duplicates wait for review.
    for person in rng.sample(created, 20):
        people_services.attach(person, rng.choice(campaigns), CampaignAttachment.Reason.SITE)
    for original in rng.sample(created, 8):
        twin = people_services.create_person(
            actor=None,
            campaign=original.attachments.first().campaign,
            reason=CampaignAttachment.Reason.IMPORT,
            source=DEMO_SOURCE,
            first_names=original.first_names,
            birth_name=original.birth_name,
            street_number=original.street_number,
            street_name=original.street_name,
            postcode=original.postcode,
            commune_name=original.commune_name,
        )
        flag_duplicates(twin)
    stdout.write(f"Created {Person.objects.filter(first_source=DEMO_SOURCE).count()} demo people\n")
