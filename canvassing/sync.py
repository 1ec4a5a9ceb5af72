"""What the canvasser app sends back: visits, new contacts and doors added in the field.

Each record carries an id made by the phone (`uuid`). `apply_records` stores that id first
(`SyncRecord`, primary key) in the same transaction as the record's effects: a record sent
twice, even at the same moment, is applied once, and the second sending gets the first answer.

Conflicts are answered, never silently dropped:
- a visit older than the door's latest result is kept in the history (status superseded) and
  does not overwrite the newer support level; the phone shows who recorded the newer one;
- a door edited on the phone from an outdated version keeps the server's values, which the
  answer carries back so the phone shows and adopts them.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from canvassing.models import (
    Building,
    Door,
    Outcome,
    Resident,
    SyncRecord,
    Visit,
)
from canvassing.selectors import assignment_covering
from canvassing.surveys import clean_answers
from cocarde.audit.services import record_event
from crm.models import (
    ActionType,
    CampaignAttachment,
    Channel,
    Consent,
    ConsentText,
    Person,
    Purpose,
)
from crm.services import people as people_services
from crm.services.consent import ConsentChoice, record_consent
from crm.services.matching import Identity, find_or_create_person

MAX_RECORDS = 500
CLOCK_SKEW = dt.timedelta(minutes=5)
CONSENT_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE)


class Rejected(Exception):
    """The record cannot be applied; the message is shown on the phone."""


def apply_records(user: Any, records: Any) -> list[dict[str, Any]]:
    """Apply each record in order (new doors before the visits that name them); one answer each."""
    if not isinstance(records, list):
        raise ValidationError(_("Send a list of records."))
    if len(records) > MAX_RECORDS:
        raise ValidationError(_("Send at most %(n)s records at once.") % {"n": MAX_RECORDS})
    answers = [apply_record(user, record) for record in records]
    touched = {a.pop("_door_campaign") for a in answers if a.get("_door_campaign")}
    if touched:
        from canvassing.models import DoorCampaign
        from canvassing.quality import check_canvasser

        for door_campaign in DoorCampaign.objects.filter(pk__in=touched):
            check_canvasser(door_campaign, user)
    return answers


def apply_record(user: Any, record: Any) -> dict[str, Any]:
    try:
        client_id = uuid_module.UUID(str(record.get("uuid")))
    except (AttributeError, ValueError, TypeError):
        return {"uuid": None, "status": "rejected", "message": _("This record has no valid id.")}
    kind = str(record.get("kind", ""))
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    SyncRecord.objects.create(client_uuid=client_id, kind=kind[:20], user=user)
            except IntegrityError:
                previous = SyncRecord.objects.filter(client_uuid=client_id).first()
                answer = dict(previous.response) if previous else {}
                answer.update({"uuid": str(client_id), "duplicate": True})
                return answer
            answer = _apply(user, kind, client_id, record)
            stored = {k: v for k, v in answer.items() if not k.startswith("_")}
            SyncRecord.objects.filter(client_uuid=client_id).update(response=stored)
            return answer
    except Rejected as error:
        # Remember the refusal too: sending the same record again gets the same answer.
        answer = {"uuid": str(client_id), "status": "rejected", "message": str(error)}
        with transaction.atomic():
            SyncRecord.objects.get_or_create(
                client_uuid=client_id,
                defaults={"kind": kind[:20], "user": user, "response": answer},
            )
        return answer


def _apply(user: Any, kind: str, client_id: uuid_module.UUID, record: dict) -> dict[str, Any]:
    if kind == "visit":
        return _apply_visit(user, client_id, record)
    if kind == "contact":
        return _apply_contact(user, client_id, record)
    if kind == "door":
        return _apply_door(user, client_id, record)
    raise Rejected(_("Unknown kind of record."))


def _when(record: dict) -> dt.datetime:
    raw = record.get("at") or record.get("visited_at")
    value = parse_datetime(str(raw)) if raw else None
    now = timezone.now()
    if value is None:
        return now
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return now if value > now + CLOCK_SKEW else value


def _door(user: Any, reference: Any, at: dt.datetime) -> Door:
    """The door named by id (or by the client id of a door added in the field), if one of the
    user's turfs holds it under an assignment valid for `at`."""
    door: Door | None = None
    try:
        if isinstance(reference, str) and "-" in reference:
            door = Door.objects.select_related("building__door_campaign__campaign", "turf").get(
                client_uuid=uuid_module.UUID(reference)
            )
        else:
            door = Door.objects.select_related("building__door_campaign__campaign", "turf").get(
                pk=int(reference)
            )
    except (Door.DoesNotExist, ValueError, TypeError):
        door = None
    if door is None or door.turf_id is None or assignment_covering(user, door.turf_id, at) is None:
        raise Rejected(_("This door is not in one of your turfs (or the turf has expired)."))
    return door


def _consent_choices(door_campaign: Any, record: dict) -> list[ConsentChoice]:
    consent = record.get("consent") or {}
    channels = [c for c in consent.get("channels") or [] if c in CONSENT_CHANNELS]
    text = str(consent.get("text") or "").strip()
    if not channels:
        return []
    campaign = door_campaign.campaign
    known = (
        text == door_campaign.consent_text.strip()
        or ConsentText.objects.filter(
            campaign=campaign, text_hash=ConsentText.fingerprint(text)
        ).exists()
    )
    if not text or not known:
        raise Rejected(_("The consent text shown is not one this campaign uses."))
    return [ConsentChoice(channel=c, purpose=Purpose.NEWS, text=text) for c in channels]


def _record_consents(
    person: Person, door_campaign: Any, choices: list[ConsentChoice], *, user: Any, source: str
) -> list[int]:
    ids = []
    for choice in choices:
        consent = record_consent(
            person,
            door_campaign.campaign,
            choice,
            actor=user,
            source_kind=Consent.SourceKind.CANVASS,
            source_detail=source,
        )
        if consent is not None:
            ids.append(consent.pk)
    return ids


def _apply_visit(user: Any, client_id: uuid_module.UUID, record: dict) -> dict[str, Any]:
    at = _when(record)
    door = _door(user, record.get("door"), at)
    door_campaign = door.building.door_campaign
    campaign = door_campaign.campaign
    outcome = record.get("outcome")
    if outcome not in Outcome.values:
        raise Rejected(_("Unknown outcome."))
    residents = list(door.people.all())
    person = None
    if record.get("person"):
        person = next((p for p in residents if str(p.uuid) == str(record["person"])), None)
        if person is None:
            raise Rejected(_("This person does not live at this door."))
    level = record.get("support_level")
    try:
        level = int(level) if level not in (None, "") else None
    except (TypeError, ValueError):
        level = None
    if level is not None and not 1 <= level <= 5:
        level = None
    answers = clean_answers(door_campaign.survey, record.get("answers"))
    consent_choices = _consent_choices(door_campaign, record) if person else []
    latest = (
        Visit.objects.filter(door=door, status=Visit.Status.APPLIED)
        .select_related("canvasser")
        .order_by("-visited_at")
        .first()
    )
    superseded = latest is not None and latest.visited_at > at
    source = f"canvassing:{door_campaign.pk}"
    effects: dict[str, Any] = {"actions": [], "consents": [], "notes": []}
    data = {
        "visit": str(client_id),
        "door_campaign": door_campaign.pk,
        "outcome": outcome,
        "answers": answers,
    }
    for resident in [person] if person else residents:
        action = people_services.record_action(
            resident,
            ActionType.DOOR_KNOCKED,
            campaign=campaign,
            actor=user,
            occurred_at=at,
            source=source,
            data=data,
        )
        effects["actions"].append(action.pk)
        people_services.attach(resident, campaign, CampaignAttachment.Reason.CANVASS, detail=source)
    if person is not None:
        if level is not None and not superseded:
            effects["support"] = {
                "person": person.pk,
                "before": person.support_level,
                "after": level,
            }
            people_services.update_person(
                person, actor=user, campaign=campaign, record_timeline=False, support_level=level
            )
        effects["consents"] = _record_consents(
            person, door_campaign, consent_choices, user=user, source=f"{source} {client_id}"
        )
        note = str(record.get("note") or "").strip()
        if note:
            effects["notes"].append(
                people_services.add_note(person, note, campaign=campaign, actor=user).pk
            )
    if outcome == Outcome.DO_NOT_VISIT and not superseded and not door.do_not_visit:
        Door.objects.filter(pk=door.pk).update(do_not_visit=True)
        effects["do_not_visit"] = True
    visit = Visit.objects.create(
        client_uuid=client_id,
        door_campaign=door_campaign,
        turf=door.turf,
        door=door,
        canvasser=user,
        person=person,
        outcome=outcome,
        support_level=level,
        answers=answers,
        note=str(record.get("note") or "")[:5000],
        visited_at=at,
        status=Visit.Status.SUPERSEDED if superseded else Visit.Status.APPLIED,
        effects=effects,
    )
    answer: dict[str, Any] = {
        "uuid": str(client_id),
        "status": "applied",
        "visit": visit.pk,
        "_door_campaign": door_campaign.pk,
    }
    if superseded and latest is not None:
        who = _name(latest.canvasser)
        answer["status"] = "conflict"
        answer["message"] = _(
            "A later result for this door (%(outcome)s, %(when)s, by %(who)s) is kept; "
            "yours is saved in the history."
        ) % {
            "outcome": latest.get_outcome_display(),
            "when": timezone.localtime(latest.visited_at).strftime("%H:%M"),
            "who": who,
        }
    return answer


def _name(user: Any) -> str:
    if user is None:
        return "?"
    full = " ".join(p for p in (user.first_name, user.last_name) if p)
    return full or user.email


def _apply_contact(user: Any, client_id: uuid_module.UUID, record: dict) -> dict[str, Any]:
    at = _when(record)
    door = _door(user, record.get("door"), at)
    door_campaign = door.building.door_campaign
    campaign = door_campaign.campaign
    first = str(record.get("first_names") or "").strip()
    last = str(record.get("last_name") or "").strip()
    email = str(record.get("email") or "").strip()
    phone = str(record.get("phone") or "").strip()
    if not (first or last) or not (email or phone):
        raise Rejected(_("A new contact needs a name and an email or a phone."))
    choices = _consent_choices(door_campaign, record)
    building = door.building
    identity = Identity(
        email=email,
        phone=phone,
        first_names=first,
        birth_name=last,
        street_number=building.street_number,
        street_repetition=building.street_repetition,
        street_name=building.street_name,
        postcode=building.postcode,
        commune_name=building.commune_name,
    )
    source = f"canvassing:{door_campaign.pk}"
    try:
        result = find_or_create_person(
            identity,
            actor=user,
            campaign=campaign,
            reason=CampaignAttachment.Reason.CANVASS,
            source=source,
        )
    except ValidationError as error:
        raise Rejected(" ".join(error.messages)) from error
    person = result.person
    if result.created and person.latitude is None:
        Person.objects.filter(pk=person.pk).update(
            latitude=building.latitude, longitude=building.longitude
        )
    Resident.objects.get_or_create(door=door, person=person)
    action = people_services.record_action(
        person,
        ActionType.DOOR_KNOCKED,
        campaign=campaign,
        actor=user,
        occurred_at=at,
        source=source,
        data={"visit": str(client_id), "door_campaign": door_campaign.pk, "new_contact": True},
    )
    consents = _record_consents(
        person, door_campaign, choices, user=user, source=f"{source} {client_id}"
    )
    note = str(record.get("note") or "").strip()
    notes = (
        [people_services.add_note(person, note, campaign=campaign, actor=user).pk] if note else []
    )
    Visit.objects.create(
        client_uuid=client_id,
        door_campaign=door_campaign,
        turf=door.turf,
        door=door,
        canvasser=user,
        person=person,
        outcome=Outcome.OPENED,
        note=note[:5000],
        visited_at=at,
        effects={
            "actions": [action.pk],
            "consents": consents,
            "notes": notes,
            "new_contact": person.pk,
        },
    )
    return {
        "uuid": str(client_id),
        "status": "applied",
        "person": str(person.uuid),
        "_door_campaign": door_campaign.pk,
    }


DOOR_FIELDS = ("entrance", "floor", "door")


def _apply_door(user: Any, client_id: uuid_module.UUID, record: dict) -> dict[str, Any]:
    at = _when(record)
    values = {f: str(record.get(f) or "").strip()[:40] for f in DOOR_FIELDS}
    if record.get("id"):
        door = _door(user, record["id"], at)
        if int(record.get("version") or 0) != door.version:
            return {
                "uuid": str(client_id),
                "status": "conflict",
                "message": _("Someone changed this door meanwhile: their version is kept."),
                "door": {"id": door.pk, "version": door.version}
                | {f: getattr(door, f) for f in DOOR_FIELDS},
            }
        Door.objects.filter(pk=door.pk).update(version=door.version + 1, **values)
        return {
            "uuid": str(client_id),
            "status": "applied",
            "door": {"id": door.pk, "version": door.version + 1} | values,
        }
    # A door found in the field, in a building of one of the user's turfs.
    try:
        building = Building.objects.get(pk=int(record.get("building") or 0))
    except (Building.DoesNotExist, ValueError, TypeError):
        raise Rejected(_("Unknown building.")) from None
    sibling = building.doors.exclude(turf__isnull=True).order_by("-route_position").first()
    if sibling is None:
        raise Rejected(_("This building is not in one of your turfs."))
    _door(user, sibling.pk, at)
    door = Door.objects.create(
        building=building,
        turf=sibling.turf,
        route_position=sibling.route_position,
        client_uuid=client_id,
        **values,
    )
    record_event(
        "canvassing.door.add",
        actor=user,
        campaign=building.door_campaign.campaign,
        target=door,
    )
    return {
        "uuid": str(client_id),
        "status": "applied",
        "door": {"id": door.pk, "version": door.version} | values,
    }
