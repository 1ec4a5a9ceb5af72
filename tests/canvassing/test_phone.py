"""Phone banking: one caller per person at a time (claims under concurrency), expiry,
call-backs, do-not-call, results in the CRM, tel: links."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from canvassing import phone
from canvassing.models import Call, PhoneCampaign, PhoneTarget
from cocarde.tenancy.models import StaffRole
from cocarde.tenancy.services import grant_role
from crm.models import Action, ActionType, Segment, Suppression
from crm.services.consent import withdraw_consent
from crm.services.people import add_phone, create_person


def setup_calls(make_campaign, make_user, people=6, callers=1):
    campaign = make_campaign()
    persons = []
    for i in range(people):
        person = create_person(actor=None, campaign=campaign, first_names=f"P{i}", birth_name="X")
        add_phone(person, f"06 12 34 56 {i:02d}")
        persons.append(person)
    segment = Segment.objects.create(
        campaign=campaign, name="Tous", kind="dynamic", criteria={"op": "and", "children": []}
    )
    pc = PhoneCampaign.objects.create(campaign=campaign, name="Appels", segment=segment)
    users = []
    for _ in range(callers):
        user = make_user()
        grant_role(user, campaign, StaffRole.Role.CANVASSER, actor=None)
        pc.callers.add(user)
        users.append(user)
    assert phone.fill_targets(pc, actor=None) == people
    return pc, persons, users


@pytest.mark.django_db(transaction=True)
def test_simultaneous_callers_never_get_the_same_person(make_campaign, make_user):
    pc, persons, callers = setup_calls(make_campaign, make_user, people=12, callers=8)
    claimed, barrier = [], threading.Barrier(len(callers))

    def work(user):
        try:
            barrier.wait()
            for _ in range(3):
                target = phone.claim_next(pc, user)
                if target is None:
                    break
                claimed.append((user.pk, target.person_id))
                phone.record_call(target, user, outcome="answered")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(u,)) for u in callers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    people = [p for _, p in claimed]
    assert len(people) == len(set(people)) == 12
    assert Call.objects.count() == 12
    assert Action.objects.filter(type=ActionType.CALLED).count() == 12


@pytest.mark.django_db
def test_a_claim_is_kept_then_expires_back_into_the_queue(make_campaign, make_user):
    pc, persons, (alice,) = setup_calls(make_campaign, make_user, people=2)
    bob = make_user()
    grant_role(bob, pc.campaign, StaffRole.Role.CANVASSER, actor=None)
    first = phone.claim_next(pc, alice)
    assert phone.claim_next(pc, alice).pk == first.pk  # the same while it lasts
    second = phone.claim_next(pc, bob)
    assert second.pk != first.pk
    PhoneTarget.objects.filter(pk=first.pk).update(claimed_until=timezone.now() - dt.timedelta(1))
    carol = make_user_in(pc, make_user)
    assert phone.claim_next(pc, carol).pk == first.pk
    # Alice's claim is gone: her call is refused, nothing written.
    with translation.override("en"), pytest.raises(ValidationError, match="expired"):
        phone.record_call(first, alice, outcome="answered")
    assert not Call.objects.exists()


def make_user_in(pc, make_user):
    user = make_user()
    grant_role(user, pc.campaign, StaffRole.Role.CANVASSER, actor=None)
    return user


@pytest.mark.django_db
def test_call_back_and_do_not_call(make_campaign, make_user):
    pc, persons, (alice,) = setup_calls(make_campaign, make_user, people=2)
    first = phone.claim_next(pc, alice)
    later = timezone.now() + dt.timedelta(hours=2)
    phone.record_call(first, alice, outcome="call_back", call_back_at=later)
    first.refresh_from_db()
    assert first.status == PhoneTarget.Status.CALL_BACK and first.call_back_at == later
    second = phone.claim_next(pc, alice)
    assert second.pk != first.pk
    phone.record_call(second, alice, outcome="do_not_call")
    assert phone.claim_next(pc, alice) is None  # the call-back is not due yet
    second.refresh_from_db()
    assert second.status == PhoneTarget.Status.DO_NOT_CALL
    assert Suppression.objects.filter(campaign=pc.campaign, channel="phone").exists()
    PhoneTarget.objects.filter(pk=first.pk).update(call_back_at=timezone.now())
    assert phone.claim_next(pc, alice).pk == first.pk


@pytest.mark.django_db
def test_people_who_refused_calls_are_never_offered(make_campaign, make_user):
    pc, persons, (alice,) = setup_calls(make_campaign, make_user, people=1)
    withdraw_consent(persons[0], pc.campaign, "phone", actor=None)
    assert phone.claim_next(pc, alice) is None


@pytest.mark.django_db
def test_the_caller_screen_has_a_tel_link_and_records_once(make_campaign, make_user, login):
    pc, persons, (alice,) = setup_calls(make_campaign, make_user, people=1)
    client = login(alice)
    page = client.get(reverse("terrain_phone", args=[pc.pk]))
    assert page.status_code == 200
    assert 'href="tel:+336123456' in page.content.decode()
    target = PhoneTarget.objects.get()
    url = reverse("terrain_phone_record", args=[pc.pk, target.pk])
    data = {"uuid": str(uuid.uuid4()), "outcome": "answered", "note": ""}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code in (302, 404)  # claim released: nothing twice
    assert Call.objects.count() == 1
    stranger = make_user()
    assert login(stranger).get(reverse("terrain_phone", args=[pc.pk])).status_code == 404


@pytest.mark.django_db
def test_the_edit_screen_changes_the_script_and_segment_and_keeps_the_queue(
    make_campaign, make_user, make_staff, login
):
    import json

    from cocarde.audit.models import AuditEvent

    pc, persons, (caller,) = setup_calls(make_campaign, make_user, people=3)
    phone.record_call(phone.claim_next(pc, caller), caller, outcome="no_answer", answers={})
    for i in range(2):  # two people joined since the queue was filled
        newcomer = create_person(
            actor=None, campaign=pc.campaign, first_names=f"N{i}", birth_name="Y"
        )
        add_phone(newcomer, f"06 98 76 54 {i:02d}")
    everyone = Segment.objects.create(
        campaign=pc.campaign, name="Tout le monde", kind="dynamic",
        criteria={"op": "and", "children": []},
    )  # fmt: skip
    other = make_campaign("Rivale 2027", slug="rivale")
    client = login(make_staff(pc.campaign, StaffRole.Role.MANAGER))
    url = reverse("canvassing_phone_edit", args=[pc.pk])
    assert client.get(url).status_code == 200
    script = [{"key": "vote", "label": "Irez-vous voter ?", "type": "yes_no"}]
    response = client.post(url, {
        "campaign": other.pk, "name": "Appels du soir", "segment": everyone.pk,
        "instructions": "", "survey": json.dumps(script), "claim_minutes": 15,
        "starts_on": "", "ends_on": "", "callers": [caller.pk],
    })  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors

    pc.refresh_from_db()
    assert (pc.name, pc.segment, pc.campaign_id) == (
        "Appels du soir",
        everyone,
        everyone.campaign_id,
    )
    assert pc.survey[0]["key"] == "vote"
    assert list(pc.callers.all()) == [caller]
    assert PhoneTarget.objects.filter(phone_campaign=pc).count() == 5  # the 3 kept, 2 added
    assert Call.objects.filter(target__phone_campaign=pc).count() == 1  # calls made stay
    event = AuditEvent.objects.get(action="canvassing.phone.update")
    assert set(event.data["fields"]) == {"name", "segment", "survey"}


@pytest.mark.django_db
def test_another_campaigns_staff_cannot_edit_a_phone_campaign(
    make_campaign, make_user, make_staff, login
):
    pc, _persons, _callers = setup_calls(make_campaign, make_user, people=1)
    outsider = make_staff(make_campaign("Rivale 2027", slug="rivale"), StaffRole.Role.MANAGER)
    url = reverse("canvassing_phone_edit", args=[pc.pk])
    assert login(outsider).get(url).status_code == 404
    assert login(outsider).post(url, {"name": "Pris"}).status_code == 404
    assert PhoneCampaign.objects.get(pk=pc.pk).name == "Appels"
