"""Field demo: a door-to-door campaign of the sample commune's candidate (Montrichard-sur-Cher,
41998) on two of its polling stations, cut into turfs in walking order, a canvasser with two
turfs and an outing's results (one of them implausible, to review), and a phone campaign.
Idempotent."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from canvassing import phone, services, sync
from canvassing.models import DoorCampaign, Outcome, PhoneCampaign
from canvassing.surveys import validate_survey
from cocarde.demo import demo_admin_password
from cocarde.tenancy import services as tenancy_services
from cocarde.tenancy.models import Campaign, StaffRole
from crm.models import Person, Segment

DEMO_COMMUNE = "41998"
NAME = "Porte-à-porte de printemps (démo)"
CANVASSER_EMAIL = "camille.terrain@cocarde.localhost"
SURVEY = [
    {"key": "priorite", "label": "Quelle est votre priorité pour la commune ?", "type": "choice",
     "choices": ["Écoles", "Commerces du centre", "Transports", "Sécurité"]},
    {"key": "ira_voter", "label": "Comptez-vous aller voter ?", "type": "yes_no"},
    {"key": "pourquoi", "label": "Qu'est-ce qui vous en empêcherait ?", "type": "text",
     "show_if": {"question": "ira_voter", "equals": False}},
    {"key": "note_projet", "label": "Que pensez-vous du projet (1 à 5) ?", "type": "scale"},
]  # fmt: skip
CONSENT = (
    "J'accepte que l'équipe de campagne me recontacte par e-mail, SMS ou téléphone au sujet de "
    "la campagne. Je peux retirer mon accord à tout moment."
)


def _campaign() -> Campaign | None:
    candidates = Campaign.objects.filter(kind=Campaign.Kind.CANDIDATE, is_active=True)
    return next(
        (c for c in candidates.order_by("pk") if DEMO_COMMUNE in (c.commune_codes or [])), None
    )


def _place_people(campaign: Campaign) -> int:
    """People of the imported roll carry an address, not yet coordinates: place them with the
    territory geocoder (BAN addresses of the commune) when they have none."""
    from territory.geocoding.engine import AddressQuery, Geocoder

    geocoder = Geocoder()
    geocoder.preload([DEMO_COMMUNE])
    people = Person.objects.filter(
        attachments__campaign=campaign, commune_code=DEMO_COMMUNE, latitude__isnull=True
    ).distinct()
    placed = []
    for person in people.only("pk", "street_number", "street_repetition", "street_name"):
        if not person.street_name:
            continue
        result = geocoder.geocode(
            AddressQuery(
                street=person.street_name,
                number=person.street_number or None,
                repetition=person.street_repetition or None,
                commune_code=DEMO_COMMUNE,
            )
        )
        if result is not None:
            person.latitude, person.longitude = result.lat, result.lon
            placed.append(person)
    Person.objects.bulk_update(placed, ["latitude", "longitude"], batch_size=1000)
    return len(placed)


def _canvasser(campaign: Campaign) -> object:
    from cocarde.accounts.models import User

    user = User.objects.filter(email=CANVASSER_EMAIL).first()
    if user is None:
        user = tenancy_services.create_user(
            CANVASSER_EMAIL,
            actor=None,
            password=demo_admin_password(),
            email_verified=True,
            first_name="Camille",
            last_name="Terrain",
        )
    tenancy_services.grant_role(user, campaign, StaffRole.Role.CANVASSER, actor=None)
    return user


def _outing(
    turf: object, canvasser: object, start: dt.datetime, rng: random.Random, gap: int
) -> int:
    records = []
    at = start
    for door in turf.doors.order_by("route_position").prefetch_related("residents__person"):  # type: ignore[attr-defined]
        outcome = rng.choices(
            [Outcome.NOT_HOME, Outcome.OPENED, Outcome.REFUSED, Outcome.COME_BACK],
            weights=[60, 25, 10, 5],
        )[0]
        record = {"uuid": str(uuid.uuid4()), "kind": "visit", "door": door.pk,
                  "outcome": outcome, "at": at.isoformat()}  # fmt: skip
        resident = door.residents.first()
        person = resident.person if resident else None
        if outcome == Outcome.OPENED and person is not None:
            will_vote = rng.random() < 0.8
            record |= {
                "person": str(person.uuid),
                "support_level": rng.choice([1, 2, 2, 3, 3, 4]),
                "answers": {
                    "priorite": rng.choice(SURVEY[0]["choices"]),
                    "ira_voter": will_vote,
                    **({} if will_vote else {"pourquoi": "Horaires de travail"}),
                },
            }
            if rng.random() < 0.4:
                record["consent"] = {"channels": ["email", "sms"], "text": CONSENT}
        records.append(record)
        at += dt.timedelta(seconds=gap + rng.randint(0, gap))
    sync.apply_records(canvasser, records)
    return len(records)


@transaction.atomic
def load(*, stdout: TextIO) -> None:
    campaign = _campaign()
    if campaign is None or DoorCampaign.objects.filter(campaign=campaign, name=NAME).exists():
        return
    placed = _place_people(campaign)
    from territory.selectors import campaign_bureaux

    bureaux = list(campaign_bureaux(campaign).order_by("code")[:2])
    dc = services.create_door_campaign(
        actor=None,
        campaign=campaign,
        name=NAME,
        target_kind=DoorCampaign.TargetKind.BUREAUX,
        bureaux=bureaux,
        survey=SURVEY,
        consent_text=CONSENT,
        instructions="Par binôme, badge visible. Sonnez une fois, attendez 30 secondes.\n"
        "Ne notez jamais une opinion que la personne n'a pas exprimée.",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + dt.timedelta(days=45),
    )
    doors = services.build_doors(dc, actor=None)
    turfs = services.cut_turfs(dc, actor=None, doors_per_turf=60, respect_bureaux=True).turfs
    canvasser = _canvasser(campaign)
    rng = random.Random(2027)
    results = 0
    if len(turfs) >= 2:
        expires = timezone.now() + dt.timedelta(days=30)
        for turf in turfs[:2]:
            services.assign_turf(turf, [canvasser], actor=None, expires_at=expires)
        start = timezone.now() - dt.timedelta(days=1, hours=3)
        results += _outing(turfs[0], canvasser, start, rng, gap=90)
        # An implausible outing (a turf in minutes), left for the team to review.
        results += _outing(turfs[1], canvasser, start + dt.timedelta(hours=4), rng, gap=4)
    segment = Segment.objects.filter(campaign=campaign, kind=Segment.Kind.DYNAMIC).first()
    if segment is not None:
        pc = PhoneCampaign.objects.create(
            campaign=campaign,
            name="Phoning des sympathisants (démo)",
            segment=segment,
            instructions="Présentez-vous, proposez le porte-à-porte du samedi.",
            survey=validate_survey(SURVEY[:2]),
        )
        pc.callers.add(canvasser)  # type: ignore[arg-type]
        phone.fill_targets(pc, actor=None)
    stdout.write(
        f"Field demo: {placed} people placed on the map, {doors} doors, {len(turfs)} turfs, "
        f"{results} door results; canvasser {CANVASSER_EMAIL} at /terrain/\n"
    )
