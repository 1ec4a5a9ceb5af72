"""A canvasser on a phone: signs in, opens a turf, loses the signal, records three doors and a
new contact, gets the signal back; the CRM then holds each record exactly once."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from canvassing.models import Visit
from crm.models import Action, ActionType, Consent, Person
from tests.fixtures.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_offline_round_trip_records_each_result_once(
    phone_page, live_server, make_field, make_canvasser
):
    page = phone_page
    field = make_field(doors_per_turf=14)
    turf = field.turfs[0]
    canvasser = make_canvasser(field.campaign, turf)
    # A door knocked twice before: its card lists both knocks, newest first.
    knocked = turf.doors.order_by("route_position")[3]
    for hours, outcome in ((48, "not_home"), (24, "opened")):
        Visit.objects.create(
            client_uuid=uuid.uuid4(),
            door_campaign=field.door_campaign,
            turf=turf,
            door=knocked,
            canvasser=canvasser,
            outcome=outcome,
            note="Ne pas montrer",
            visited_at=timezone.now() - dt.timedelta(hours=hours),
        )
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))

    page.goto(f"{live_server.url}/terrain/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", canvasser.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(re.compile(r"/terrain/$"))
    page.click(f"[data-turf='{turf.pk}']")
    page.wait_for_selector("[data-door]")
    assert page.locator("[data-sync-status]").inner_text() == "Tout est envoyé"
    page.click(f"[data-door='{knocked.pk}']")
    history = page.locator("[data-card] [data-history]")
    assert "Visites précédentes" in history.inner_text()
    items = history.locator("[data-visit]").all_inner_texts()
    assert len(items) == 2
    assert "Ouvert" in items[0] and "Camille" in items[0] and "Absent" in items[1]
    assert "Terrain" not in history.inner_text() and "Ne pas montrer" not in history.inner_text()

    page.context.set_offline(True)
    doors = list(turf.doors.order_by("route_position")[:3])
    for index, door in enumerate(doors):
        page.click(f"[data-door='{door.pk}']")
        if index == 0:
            person = door.people.first()
            page.select_option("[data-person]", str(person.uuid))
            page.select_option("[data-support]", "2")
            # Branching: "why not?" shows only once the person says they will not vote.
            why_not = page.locator("[data-question-wrap='why_not']")
            assert not why_not.is_visible()
            page.select_option("[data-question='will_vote']", "false")
            assert why_not.is_visible()
            page.fill("[data-question='why_not']", "Horaires de travail")
            page.check("input[name=door-consent][value=email]")
            page.click("[data-card] [data-outcome='opened']")
        else:
            page.click("[data-card] [data-outcome='not_home']")
    stop = page.locator("[data-new-contact]").first
    stop.click()
    page.fill("[data-card] input[name=first_names]", "Nadia")
    page.fill("[data-card] input[name=last_name]", "Nouvelle")
    page.fill("[data-card] input[name=email]", "nadia@example.org")
    page.click("[data-save-contact]")
    status = page.locator("[data-sync-status]")
    assert status.get_attribute("data-pending") == "4"
    assert "Hors ligne" in status.inner_text()
    assert Visit.objects.count() == 2  # nothing new reached the server

    page.context.set_offline(False)
    page.wait_for_selector("[data-sync-status][data-pending='0']")
    # A second press sends nothing new and changes nothing.
    page.click("[data-sync-now]")
    page.wait_for_selector("[data-sync-status][data-pending='0']")

    assert Visit.objects.filter(door_campaign=field.door_campaign).count() == 4 + 2
    first_person = doors[0].people.first()
    first_person.refresh_from_db()
    assert first_person.support_level == 2
    assert Action.objects.filter(person=first_person, type=ActionType.DOOR_KNOCKED).count() == 1
    assert Consent.objects.filter(person=first_person, channel="email").count() == 1
    action = Action.objects.get(person=first_person, type=ActionType.DOOR_KNOCKED)
    assert action.data["answers"] == {"will_vote": False, "why_not": "Horaires de travail"}
    for door in doors[1:]:
        for resident in door.people.all():
            assert Action.objects.filter(person=resident, type=ActionType.DOOR_KNOCKED).count() == 1
    nadia = Person.objects.get(emails__email="nadia@example.org")
    assert Action.objects.filter(person=nadia, type=ActionType.DOOR_KNOCKED).count() == 1
    assert Person.objects.filter(first_names="Nadia").count() == 1
    assert not errors, errors
