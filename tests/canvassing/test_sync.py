"""Results sent by the canvasser app: each record applied once however often it is sent, into
the CRM (actions, support level, consent with its text, notes, new contacts); conflicts answered
visibly; nothing accepted outside the canvasser's turfs."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from canvassing import sync
from canvassing.models import Assignment, Door, SyncRecord, Visit
from crm.models import Action, ActionType, CampaignAttachment, Consent, Note, Person
from tests.fixtures.canvassing import CONSENT_TEXT

pytestmark = pytest.mark.django_db


def visit(door, **extra):
    record = {
        "uuid": str(uuid.uuid4()),
        "kind": "visit",
        "door": door.pk,
        "outcome": "opened",
        "at": timezone.now().isoformat(),
    }
    record.update(extra)
    return record


def post(client, records):
    return client.post(
        reverse("terrain_sync"), json.dumps({"records": records}), content_type="application/json"
    )


def test_a_visit_becomes_crm_actions_support_level_consent_and_note(
    make_field, make_canvasser, login
):
    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    door = turf.doors.first()
    person = door.people.first()
    record = visit(
        door,
        person=str(person.uuid),
        support_level=2,
        answers={"priority": "Écoles", "will_vote": False, "why_not": "travail", "junk": 1},
        consent={"channels": ["email", "sms"], "text": CONSENT_TEXT},
        note="Intéressée par les écoles",
    )
    response = post(login(canvasser), [record])
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "applied"
    person.refresh_from_db()
    assert person.support_level == 2
    action = Action.objects.get(person=person, type=ActionType.DOOR_KNOCKED)
    assert action.data["outcome"] == "opened"
    assert action.data["answers"] == {
        "priority": "Écoles",
        "will_vote": False,
        "why_not": "travail",
    }
    assert action.actor == canvasser and action.campaign == field.campaign
    consents = Consent.objects.filter(person=person, campaign=field.campaign)
    assert {c.channel for c in consents} == {"email", "sms"}
    assert all(c.text.text == CONSENT_TEXT and c.source_kind == "canvass" for c in consents)
    assert Note.objects.get(person=person).text == "Intéressée par les écoles"
    assert CampaignAttachment.objects.filter(
        person=person, campaign=field.campaign, reason="canvass"
    ).exists()


def test_a_sync_sent_twice_is_applied_once(make_field, make_canvasser, login):
    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    doors = list(turf.doors.all()[:3])
    records = [visit(d, outcome="not_home") for d in doors]
    records.append(
        {
            "uuid": str(uuid.uuid4()),
            "kind": "contact",
            "door": doors[0].pk,
            "first_names": "Nadia",
            "last_name": "Nouvelle",
            "email": "nadia@example.org",
            "consent": {"channels": ["email"], "text": CONSENT_TEXT},
        }
    )
    client = login(canvasser)
    first = post(client, records).json()["results"]
    second = post(client, records).json()["results"]
    assert [r["status"] for r in first] == ["applied"] * 4
    assert all(r.get("duplicate") for r in second)
    assert [r["status"] for r in second] == ["applied"] * 4
    assert Visit.objects.filter(door_campaign=field.door_campaign).count() == 4
    for record, door in zip(records[:3], doors, strict=True):
        residents = door.people.count() if door.pk != doors[0].pk else door.people.count() - 1
        assert Action.objects.filter(data__visit=record["uuid"]).count() == residents
    nadia = Person.objects.get(emails__email="nadia@example.org")
    assert Action.objects.filter(person=nadia, type=ActionType.DOOR_KNOCKED).count() == 1
    assert Consent.objects.filter(person=nadia).count() == 1
    assert nadia in Door.objects.get(pk=doors[0].pk).people.all()


@pytest.mark.django_db(transaction=True)
def test_the_same_record_sent_at_the_same_moment_is_applied_once(make_field, make_canvasser):
    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    door = turf.doors.first()
    record = visit(door, person=str(door.people.first().uuid), support_level=1)
    answers, barrier = [], threading.Barrier(4)

    def send():
        try:
            barrier.wait()
            answers.append(sync.apply_records(canvasser, [dict(record)])[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 4
    assert Visit.objects.filter(client_uuid=record["uuid"]).count() == 1
    assert Action.objects.filter(data__visit=record["uuid"]).count() == 1
    assert SyncRecord.objects.filter(client_uuid=record["uuid"]).count() == 1


def test_an_older_result_does_not_override_a_newer_one_and_says_so(make_field, make_canvasser):
    field = make_field()
    turf = field.turfs[0]
    first = make_canvasser(field.campaign, turf)
    partner = make_canvasser(field.campaign, turf)
    door = turf.doors.first()
    person = door.people.first()
    now = timezone.now()
    newer = visit(door, person=str(person.uuid), support_level=1, at=now.isoformat())
    older = visit(
        door,
        person=str(person.uuid),
        support_level=5,
        outcome="refused",
        at=(now - dt.timedelta(minutes=30)).isoformat(),
    )
    assert sync.apply_records(first, [newer])[0]["status"] == "applied"
    answer = sync.apply_records(partner, [older])[0]
    assert answer["status"] == "conflict"
    assert "Camille" in answer["message"]
    person.refresh_from_db()
    assert person.support_level == 1
    kept = Visit.objects.get(client_uuid=older["uuid"])
    assert kept.status == Visit.Status.SUPERSEDED
    # The knock itself happened: it is in the timeline.
    assert Action.objects.filter(data__visit=older["uuid"]).count() == 1


def test_a_door_edited_from_an_old_version_keeps_the_server_values(make_field, make_canvasser):
    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    door = turf.doors.first()
    edit = {"kind": "door", "id": door.pk, "version": door.version, "floor": "3", "door": "B"}
    first = sync.apply_records(canvasser, [edit | {"uuid": str(uuid.uuid4())}])[0]
    assert first["status"] == "applied" and first["door"]["version"] == 2
    stale = sync.apply_records(
        canvasser, [edit | {"uuid": str(uuid.uuid4()), "floor": "4", "door": "C"}]
    )[0]
    assert stale["status"] == "conflict"
    assert stale["door"] == {"id": door.pk, "version": 2, "entrance": "", "floor": "3", "door": "B"}
    door.refresh_from_db()
    assert (door.floor, door.door) == ("3", "B")


def test_a_door_added_in_the_field_can_be_visited_by_its_client_id(make_field, make_canvasser):
    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    building = turf.doors.first().building
    door_id = str(uuid.uuid4())
    results = sync.apply_records(
        canvasser,
        [
            {"uuid": door_id, "kind": "door", "building": building.pk, "floor": "5", "door": "51"},
            visit(Door(pk=0), outcome="not_home") | {"door": door_id},
        ],
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    new = Door.objects.get(client_uuid=door_id)
    assert new.turf == turf and new.floor == "5"
    assert Visit.objects.get(door=new).outcome == "not_home"


def test_nothing_is_accepted_outside_my_turfs(make_field, make_canvasser):
    field = make_field()
    mine, other = field.turfs[0], field.turfs[1]
    canvasser = make_canvasser(field.campaign, mine)
    stranger_door = other.doors.first()
    answer = sync.apply_records(canvasser, [visit(stranger_door)])[0]
    assert answer["status"] == "rejected"
    assert not Visit.objects.exists()
    # Someone living elsewhere cannot be named at my door.
    door = mine.doors.first()
    answer = sync.apply_records(
        canvasser, [visit(door, person=str(stranger_door.people.first().uuid))]
    )[0]
    assert answer["status"] == "rejected"
    assert not Action.objects.filter(type=ActionType.DOOR_KNOCKED).exists()


def test_results_recorded_before_expiry_are_accepted_late_but_not_after(make_field, make_canvasser):
    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    door = turf.doors.first()
    now = timezone.now()
    Assignment.objects.filter(turf=turf).update(expires_at=now - dt.timedelta(hours=2))
    before = visit(door, at=(now - dt.timedelta(hours=3)).isoformat())
    after = visit(door, at=(now - dt.timedelta(hours=1)).isoformat())
    assert sync.apply_records(canvasser, [before])[0]["status"] == "applied"
    assert sync.apply_records(canvasser, [after])[0]["status"] == "rejected"
    # A refusal is answered the same way when the phone sends it again.
    again = sync.apply_records(canvasser, [after])[0]
    assert again["status"] == "rejected" and again["duplicate"]


def test_a_consent_text_the_campaign_never_used_is_refused(make_field, make_canvasser):
    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    door = turf.doors.first()
    record = visit(
        door,
        person=str(door.people.first().uuid),
        consent={"channels": ["email"], "text": "Texte inventé"},
    )
    assert sync.apply_records(canvasser, [record])[0]["status"] == "rejected"
    assert not Consent.objects.exists()
    assert not Action.objects.filter(type=ActionType.DOOR_KNOCKED).exists()


def test_do_not_visit_marks_the_door(make_field, make_canvasser):
    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    door = turf.doors.first()
    sync.apply_records(canvasser, [visit(door, outcome="do_not_visit")])
    door.refresh_from_db()
    assert door.do_not_visit


def test_malformed_payloads_get_a_clear_400(make_field, make_canvasser, login):
    field = make_field()
    client = login(make_canvasser(field.campaign, field.turfs[0]))
    bad = client.post(reverse("terrain_sync"), "not json", content_type="application/json")
    assert bad.status_code == 400
    assert post(client, "x").status_code == 400
    answer = post(client, [{"kind": "visit"}]).json()["results"][0]
    assert answer["status"] == "rejected"


def test_erasing_a_person_erases_their_door_results(make_field, make_canvasser):
    from crm.services.gdpr import erase_person, export_person

    field = make_field()
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    door = turf.doors.first()
    person = door.people.first()
    record = visit(
        door, person=str(person.uuid), note="Pense voter blanc", answers={"will_vote": True}
    )
    sync.apply_records(canvasser, [record])
    export = export_person(person, include_sensitive=True)
    assert export["related"]["canvassing.Visit.person"][0]["note"] == "Pense voter blanc"
    assert export["related"]["canvassing.Resident.person"]
    erase_person(person, actor=None)
    assert not Visit.objects.filter(client_uuid=record["uuid"]).exists()
    assert Door.objects.filter(pk=door.pk).exists()  # the door stays, without them
