"""Find-or-create matches in order: external id, email, E.164 phone, roll identity; the
uncertain look-alikes go to the review queue."""

from __future__ import annotations

import pytest

from crm.models import DuplicateCandidate, ExternalId, Person
from crm.services.matching import Identity, find_or_create_person, find_person

pytestmark = pytest.mark.django_db


def fc(campaign, **identity):
    return find_or_create_person(
        Identity(**identity), actor=None, campaign=campaign, reason="import", source="test"
    )


def test_external_id_comes_before_email(alpha, make_person):
    by_id = make_person(alpha, first_names="Ana", birth_name="Roux")
    ExternalId.objects.create(person=by_id, source="members-national", value="A-17")
    by_email = make_person(alpha, emails=("ana@example.org",), first_names="Ana")
    match = find_person(Identity(email="ana@example.org", external_id=("members-national", "A-17")))
    assert (match.person, match.rule) == (by_id, "external_id")
    assert find_person(Identity(email="ANA@example.org")).person == by_email


def test_email_comes_before_phone(alpha, make_person):
    by_phone = make_person(alpha, phones=("06 11 22 33 44",), first_names="Luc")
    by_email = make_person(alpha, emails=("luc@example.org",), first_names="Luc")
    match = find_person(Identity(email="luc@example.org", phone="+33611223344", first_names="Luc"))
    assert (match.person, match.rule) == (by_email, "email")
    match = find_person(Identity(phone="0033 6 11 22 33 44", first_names="Luc"))
    assert (match.person, match.rule) == (by_phone, "phone")


def test_a_shared_phone_or_another_first_name_is_not_a_certain_match(alpha, make_person):
    mum = make_person(alpha, phones=("02 54 32 10 00",), first_names="Anne", birth_name="Petit")
    assert find_person(Identity(phone="0254321000", first_names="Paul")).person is None
    result = fc(alpha, phone="0254321000", first_names="Paul", birth_name="Petit")
    assert result.created
    pair = DuplicateCandidate.objects.get()
    assert {pair.person_a_id, pair.person_b_id} == {mum.pk, result.person.pk}
    assert pair.reason == "shared_phone"


def test_roll_identity_with_birth_or_usage_name(alpha, make_person):
    roll = make_person(
        alpha,
        birth_name="AÏT-ALI",
        usage_name="FRANÇOIS",
        first_names="Aurélie",
        birth_date="12/03/1943",
    )
    for last in ("Ait Ali", "francois"):
        match = find_person(
            Identity(birth_name=last, first_names="aurelie", birth_date="12/03/1943")
        )
        assert (match.person, match.rule) == (roll, "roll"), last
    assert (
        find_person(Identity(birth_name="Ait Ali", first_names="Aurélie", birth_date="1943")).person
        is None
    )


def test_birthplace_separates_homonyms(alpha, make_person):
    lyon = make_person(
        alpha,
        birth_name="Martin",
        first_names="Jean",
        birth_date="01/01/1960",
        birth_place_code="69123",
    )
    paris = make_person(
        alpha,
        birth_name="Martin",
        first_names="Jean",
        birth_date="01/01/1960",
        birth_place_code="75056",
    )
    both = Identity(birth_name="MARTIN", first_names="Jean", birth_date="01/01/1960")
    assert find_person(both).person is None  # two homonyms: no certain match
    only_paris = Identity(**{**both.__dict__, "birth_place_code": "75056"})
    assert find_person(only_paris).person == paris
    assert DuplicateCandidate.objects.filter(reason="name_birth").count() == 0  # made directly
    assert lyon.pk != paris.pk


def test_same_name_and_address_or_a_typo_goes_to_review(alpha, make_person):
    address = {"street_number": "12", "street_name": "Rue Pasteur", "postcode": "41400"}
    first = make_person(alpha, birth_name="Dupont", first_names="Marie", **address)
    same = fc(alpha, birth_name="DUPONT", first_names="marie", **address)
    typo = fc(alpha, birth_name="Dupond", first_names="Marie", **address)
    neighbour = fc(alpha, birth_name="Lefebvre", first_names="Paul", **address)
    reasons = {
        frozenset((p.person_a_id, p.person_b_id)): p.reason
        for p in DuplicateCandidate.objects.all()
    }
    assert reasons[frozenset((first.pk, same.person.pk))] == "name_address"
    assert reasons[frozenset((first.pk, typo.person.pk))] == "similar_name"
    assert all(neighbour.person.pk not in pair for pair in reasons)
    assert Person.objects.count() == 4  # nothing merged without a human


def test_known_email_attaches_the_new_campaign_without_duplicating(alpha, bravo, make_person):
    known = make_person(alpha, emails=("zoe@example.org",), first_names="Zoé")
    result = fc(bravo, email="Zoe@Example.org", first_names="Z")
    assert (result.person, result.created, result.rule) == (known, False, "email")
    assert set(known.attachments.values_list("campaign__slug", "reason")) == {
        ("alpha", "manual"),
        ("bravo", "import"),
    }
