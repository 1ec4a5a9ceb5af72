"""A small, fully known world for segment tests: who matches each criterion is written here.

Alpha's people (attached to the Alpha campaign):
- anne: F, born 15/06/1990, Blois 41018 station 0001, constituency 41-01, IRIS 410180101,
  at Blois (47.5861, 1.3359); tags bénévole; member; support 1; interests door-to-door;
  valid email with email/news consent; signed petition page 10 ten days ago; gave 50 € monthly
  30 days ago; door answered 5 days ago; custom field "quartier" = Centre.
- bruno: M, born in 1961 (year only), Blois station 0002; tags bénévole, sympathisant;
  bounced email with email/news consent; clicked blast 7 three days ago; gave 20 € 200 days
  ago and 15 € 400 days ago; door "revisit" 20 days ago then "refused" 2 days ago.
- chloe: F, born 10/01/2004, Vendôme 41269, at Vendôme (47.7929, 1.0656); on the LCE roll of
  Vendôme; consent email/news then withdrew (suppressed); custom number "enfants" = 3.
- dede: sex unknown, no birth date, no commune; valid mobile with SMS/news consent; support 4;
  lapsed member; RSVP'd event page 20 forty days ago; never canvassed.
- eric: attached to Alpha AND Bravo; M, born 03/1975 (month and year), Blois station 0001;
  tags sympathisant; gave 500 € (one-off) 10 days ago to Bravo only.
Bravo's people: fanny (F, born 1990, Blois station 0001, tag bénévole of Bravo).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone, translation

from cocarde.tenancy.models import StaffRole
from crm.models import (
    ActionType,
    CustomField,
    CustomFieldValue,
    ElectoralRegistration,
    Interest,
    Person,
    Tag,
)
from crm.services import people as people_services
from crm.services.consent import ConsentChoice, record_consent, withdraw_consent

Role = StaffRole.Role
TEXT = "J'accepte de recevoir des nouvelles de la campagne."


@dataclass
class World:
    alpha: Any
    bravo: Any
    people: dict[str, Person]
    tags: dict[str, Tag]
    fields: dict[str, CustomField]
    interests: dict[str, Interest]
    staff: dict[str, Any]

    def names(self, people) -> set[str]:
        by_pk = {p.pk: name for name, p in self.people.items()}
        return {by_pk[p.pk] for p in people}


@pytest.fixture(autouse=True)
def _english():
    """Service-level messages are asserted in English, the source language (screens are
    tested in French, the default, through their requests)."""
    with translation.override("en"):
        yield


def _ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


@pytest.fixture
def world(alpha, bravo, make_person, make_staff) -> World:
    create = make_person
    anne = create(
        alpha, emails=("anne@example.org",), first_names="Anne", birth_name="Aubry", sex="F",
        birth_date="15/06/1990", commune_code="41018", commune_name="Blois",
        polling_station_code="0001", circonscription_code="41-01", iris_code="410180101",
        latitude=47.5861, longitude=1.3359, member_status="member", support_level=1,
        street_name="Rue Denis Papin", postcode="41000",
    )  # fmt: skip
    bruno = create(
        alpha, emails=("bruno@example.org",), first_names="Bruno", birth_name="Bernard",
        sex="M", birth_date="1961", commune_code="41018", commune_name="Blois",
        polling_station_code="0002", circonscription_code="41-01",
    )  # fmt: skip
    chloe = create(
        alpha, emails=("chloe@example.org",), first_names="Chloé", birth_name="Carré",
        sex="F", birth_date="10/01/2004", commune_code="41269", commune_name="Vendôme",
        circonscription_code="41-03", latitude=47.7929, longitude=1.0656,
    )  # fmt: skip
    dede = create(
        alpha, phones=("06 11 22 33 44",), first_names="Dédé", birth_name="Durand",
        support_level=4, member_status="lapsed",
    )  # fmt: skip
    eric = create(
        alpha, first_names="Éric", birth_name="Emery", sex="M", birth_date="00/03/1975",
        commune_code="41018", commune_name="Blois", polling_station_code="1",
    )  # fmt: skip
    people_services.attach(eric, bravo, "manual")
    fanny = create(
        bravo, first_names="Fanny", birth_name="Faure", sex="F", birth_date="1990",
        commune_code="41018", polling_station_code="0001",
    )  # fmt: skip

    tags = {
        "benevole": people_services.tag_for("Bénévole", alpha),
        "sympathisant": people_services.tag_for("Sympathisant", alpha),
        "benevole_bravo": people_services.tag_for("Bénévole", bravo),
    }
    people_services.add_tags(anne, ["Bénévole"], campaign=alpha, actor=None)
    people_services.add_tags(bruno, ["Bénévole", "Sympathisant"], campaign=alpha, actor=None)
    people_services.add_tags(eric, ["Sympathisant"], campaign=alpha, actor=None)
    people_services.add_tags(fanny, ["Bénévole"], campaign=bravo, actor=None)

    door, phoning = (
        Interest.objects.create(name="Porte-à-porte", slug="porte-a-porte"),
        (Interest.objects.create(name="Phoning", slug="phoning")),
    )
    anne.interests.add(door)
    eric.interests.add(door, phoning)

    news = ConsentChoice("email", "news", TEXT)
    for person in (anne, bruno, chloe):
        record_consent(person, alpha, news, actor=None, source_kind="web")
    bruno.emails.update(status="bounced")
    withdraw_consent(chloe, alpha, "email", actor=None, source="test")
    record_consent(dede, alpha, ConsentChoice("sms", "news", TEXT), actor=None, source_kind="web")
    dede.phones.update(kind="mobile")

    action = people_services.record_action
    action(anne, ActionType.SIGNED_PETITION, campaign=alpha, page_id=10, occurred_at=_ago(10))
    action(
        anne,
        ActionType.DONATED,
        campaign=alpha,
        occurred_at=_ago(30),
        data={"amount": "50.00", "currency": "EUR", "recurring": True},
    )
    action(
        anne,
        ActionType.DOOR_KNOCKED,
        campaign=alpha,
        occurred_at=_ago(5),
        data={"outcome": "answered"},
    )
    action(
        bruno, ActionType.EMAIL_CLICKED, campaign=alpha, occurred_at=_ago(3), data={"blast_id": 7}
    )
    action(
        bruno,
        ActionType.DONATED,
        campaign=alpha,
        occurred_at=_ago(200),
        data={"amount": 20, "currency": "EUR"},
    )
    action(
        bruno,
        ActionType.DONATED,
        campaign=alpha,
        occurred_at=_ago(400),
        data={"amount": "15", "currency": "EUR", "recurring": False},
    )
    action(
        bruno,
        ActionType.DOOR_KNOCKED,
        campaign=alpha,
        occurred_at=_ago(20),
        data={"outcome": "revisit"},
    )
    action(
        bruno,
        ActionType.DOOR_KNOCKED,
        campaign=alpha,
        occurred_at=_ago(2),
        data={"outcome": "refused"},
    )
    action(dede, ActionType.RSVPED, campaign=alpha, page_id=20, occurred_at=_ago(40))
    action(eric, ActionType.DONATED, campaign=bravo, occurred_at=_ago(10),
           data={"amount": "500", "currency": "EUR", "recurring": False})  # fmt: skip

    ElectoralRegistration.objects.create(
        person=chloe, list_type="LCE", commune_code="41269", polling_station_code="0003"
    )
    fields = {
        "quartier": CustomField.objects.create(
            campaign=alpha, key="quartier", label="Quartier", type="text"
        ),
        "enfants": CustomField.objects.create(
            campaign=alpha, key="enfants", label="Enfants", type="number"
        ),
        "opinion": CustomField.objects.create(
            campaign=alpha,
            key="opinion",
            label="Opinion",
            type="choice",
            choices=["pour", "contre"],
            is_sensitive=True,
        ),  # fmt: skip
    }
    people_services.set_custom_values(anne, {fields["quartier"]: "Centre"}, actor=None)
    people_services.set_custom_values(chloe, {fields["enfants"]: 3}, actor=None)
    people_services.set_custom_values(bruno, {fields["opinion"]: "contre"}, actor=None)
    assert CustomFieldValue.objects.count() == 3

    staff = {
        "manager_a": make_staff(alpha, Role.MANAGER),
        "staff_a": make_staff(alpha, Role.STAFF),
        "treasurer_a": make_staff(alpha, Role.TREASURER),
        "canvasser_a": make_staff(alpha, Role.CANVASSER),
        "manager_b": make_staff(bravo, Role.MANAGER),
    }
    people = {
        "anne": anne, "bruno": bruno, "chloe": chloe, "dede": dede, "eric": eric, "fanny": fanny,
    }  # fmt: skip
    return World(alpha, bravo, people, tags, fields, {"door": door, "phoning": phoning}, staff)


def leaf(criterion: str, **params: Any) -> dict[str, Any]:
    return {"criterion": criterion, "params": params}


def group(op: str, *children: dict[str, Any]) -> dict[str, Any]:
    return {"op": op, "children": list(children)}
