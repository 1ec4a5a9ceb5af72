"""Demo CRM: the people come from importing the sample electoral roll and members file into a
demo candidate campaign; then web actions, consents, tags, notes and a few likely duplicates
to review are added. Idempotent."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from cocarde.tenancy import services as tenancy_services
from cocarde.tenancy.models import Campaign
from crm.models import ActionType, CampaignAttachment, Interest, Person
from crm.services import people as people_services
from crm.services.consent import ConsentChoice, record_consent
from crm.services.matching import flag_duplicates

DEMO_SOURCE = "Démo Cocarde"
INTERESTS = ["Porte-à-porte", "Phoning", "Tractage", "Événements", "Réseaux sociaux"]
CONSENT_TEXT = (
    "J'accepte que {name} m'envoie des nouvelles de la campagne et des appels à agir par "
    "email. Je peux me désabonner à tout moment par le lien présent dans chaque message."
)
SMS_TEXT = "J'accepte de recevoir des SMS de {name}. Répondez STOP pour ne plus en recevoir."


def _demo_campaigns(stdout: TextIO) -> list[Campaign]:
    candidates = Campaign.objects.filter(kind=Campaign.Kind.CANDIDATE, is_active=True)
    campaigns = list(candidates.order_by("pk")[:4])  # the same ones on every run
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


SAMPLES = Path(__file__).resolve().parent / "imports" / "samples"
DEMO_IMPORTS = ["com41998-LP.csv", "com41998-LCM.csv", "com41998-LCE.csv", "adherents.csv"]


def _import_samples(campaign: Campaign, stdout: TextIO) -> None:
    """The demo's people: the sample electoral roll (LP, LCM, LCE) of Montrichard-sur-Cher and
    the party's members file, imported as a campaign team would (each file once)."""
    from crm.imports import services as import_services
    from crm.models import ImportRun

    for name in DEMO_IMPORTS:
        done = ImportRun.objects.filter(
            campaign=campaign, original_name=name, status=ImportRun.Status.DONE
        )
        if done.exists():
            continue
        with (SAMPLES / name).open("rb") as handle:
            run = import_services.create_import(
                actor=None,
                campaign=campaign,
                file=handle,
                original_name=name,
                tags=["Adhérents"] if name == "adherents.csv" else [],
            )
        run = import_services.execute_import(run)
        stdout.write(
            f"Imported {name}: {run.created} new, {run.updated} updated, "
            f"{run.duplicates_in_file} duplicates in the file\n"
        )


def load(*, stdout: TextIO) -> None:
    from crm.segments import demo as segments_demo

    campaigns = _demo_campaigns(stdout)
    roll_campaign = next((c for c in campaigns if "41998" in (c.commune_codes or [])), campaigns[0])
    _import_samples(roll_campaign, stdout)
    _engage(campaigns, roll_campaign, stdout)
    segments_demo.load(stdout=stdout)


@transaction.atomic
def _engage(campaigns: list[Campaign], roll_campaign: Campaign, stdout: TextIO) -> None:
    """What campaigns add to imported people: web actions, consents, tags, notes, a second
    campaign for some, and a few likely duplicates to review. Once."""
    if Person.objects.filter(first_source=DEMO_SOURCE).exists():
        return
    rng = random.Random(2027)  # the same demo every time
    interests = [
        Interest.objects.get_or_create(slug=f"demo-{i}", defaults={"name": name})[0]
        for i, name in enumerate(INTERESTS)
    ]
    now = timezone.now()
    members = list(
        Person.objects.filter(member_status="member", emails__isnull=False)
        .distinct()
        .order_by("pk")
    )
    voters = list(Person.objects.filter(member_status="").order_by("pk")[:300])
    for person in members + rng.sample(voters, min(len(voters), 60)):
        campaign = roll_campaign
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
        if rng.random() < 0.2:
            people_services.update_person(
                person,
                actor=None,
                record_timeline=False,
                support_level=rng.choice([1, 2, 2, 3, 4, 5]),
                supporter_status=rng.choice(["supporter", "supporter", "prospect"]),
            )
        if rng.random() < 0.1:
            people_services.add_note(
                person,
                "Rencontré au marché, souhaite être recontacté·e.",
                campaign=campaign,
                actor=None,
            )
    # A few people also act for another campaign, and a few likely duplicates await review.
    others = [c for c in campaigns if c.pk != roll_campaign.pk] or [roll_campaign]
    for person in rng.sample(members, min(len(members), 20)):
        people_services.attach(person, rng.choice(others), CampaignAttachment.Reason.SITE)
    for original in rng.sample(members, min(len(members), 8)):
        twin = people_services.create_person(
            actor=None,
            campaign=roll_campaign,
            reason=CampaignAttachment.Reason.SITE,
            source=DEMO_SOURCE,
            first_names=original.first_names,
            birth_name=original.birth_name,
            street_number=original.street_number,
            street_name=original.street_name,
            postcode=original.postcode,
            commune_name=original.commune_name,
        )
        flag_duplicates(twin)
    stdout.write(f"Demo CRM ready: {Person.objects.count()} people\n")
