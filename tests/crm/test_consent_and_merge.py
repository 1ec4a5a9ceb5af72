"""Consent proof and withdrawal; opt-outs surviving merges, re-imports and erasure; merge and
undo."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from crm.models import (
    Action,
    Consent,
    ConsentText,
    CustomField,
    CustomFieldValue,
    MergeRecord,
    Person,
    Suppression,
)
from crm.models.consent import ImmutableError
from crm.selectors import contactable
from crm.services import people as people_services
from crm.services.consent import ConsentChoice, consent_text_for, record_consent, withdraw_consent
from crm.services.gdpr import erase_person
from crm.services.matching import Identity, find_or_create_person
from crm.services.merge import merge_people, undo_merge
from crm.services.self_service import unsubscribe_token
from tests.crm.conftest import PETITION_TEXT

pytestmark = pytest.mark.django_db
NEWS = ConsentChoice("email", "news", PETITION_TEXT)


def give(person, campaign, choice=NEWS, source="web"):
    return record_consent(
        person,
        campaign,
        choice,
        actor=None,
        source_kind=source,
        source_detail="https://alpha.example/p/",
    )


def test_consent_texts_are_versioned_and_immutable(alpha):
    v1 = consent_text_for(alpha, "news", "Texte A")
    assert consent_text_for(alpha, "news", "Texte A") == v1
    v2 = consent_text_for(alpha, "news", "Texte B")
    assert (v1.version, v2.version) == (1, 2) and v1.text_hash != v2.text_hash
    with pytest.raises(ImmutableError):
        v1.text = "changed"
        v1.save()
    if connection.vendor == "postgresql":  # the database refuses too
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            ConsentText.objects.filter(pk=v1.pk).update(text="changed")
    assert ConsentText.objects.get(pk=v1.pk).text == "Texte A"


def test_one_click_unsubscribe_withdraws_and_suppresses(alpha, make_person, client):
    person = make_person(alpha, emails=("ines@example.org",))
    consent = give(person, alpha)
    assert contactable(alpha.pk, "email", "news").count() == 1
    url = f"/crm/desabonnement/{unsubscribe_token(person, alpha.pk, 'email')}/"
    assert client.get(url).status_code == 200
    assert contactable(alpha.pk, "email", "news").count() == 1  # a GET changes nothing
    # RFC 8058: the mail client posts without a CSRF token.
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None and consent.withdrawal_source
    assert consent.text.text == PETITION_TEXT  # the proof stays
    assert not contactable(alpha.pk, "email", "news").exists()
    assert Suppression.objects.filter(campaign=alpha, channel="email").count() == 1
    assert person.actions.filter(type="consent_withdrawn").exists()
    assert client.post("/crm/desabonnement/forged/").status_code == 404


def test_imports_and_staff_cannot_override_an_opt_out_but_the_person_can(alpha, make_person):
    person = make_person(alpha, emails=("ines@example.org",))
    give(person, alpha)
    withdraw_consent(person, alpha, "email", actor=None)
    assert give(person, alpha, source="import") is None
    assert give(person, alpha, source="staff") is None
    assert not contactable(alpha.pk, "email", "news").exists()
    fresh = give(person, alpha, source="web")  # the person ticks the box again themselves
    assert fresh is not None and fresh.is_active
    assert contactable(alpha.pk, "email", "news").count() == 1


def test_opt_out_survives_a_merge(alpha, make_person):
    keeper = make_person(alpha, emails=("a@example.org",), first_names="Ana")
    other = make_person(alpha, emails=("ana.pro@example.org",), first_names="Ana")
    give(keeper, alpha)
    withdraw_consent(other, alpha, "email", actor=None)  # said no on the other address
    merge_people(keeper, other, actor=None)
    # The survivor now owns the opted-out address: it is suppressed, so no email goes out.
    assert not contactable(alpha.pk, "email", "news").exists()


def test_erasure_then_reimport_stays_suppressed(alpha, bravo, make_person):
    person = make_person(
        alpha,
        emails=("eva@example.org",),
        phones=("0611223344",),
        first_names="Eva",
        birth_name="Lemoine",
    )
    give(person, alpha)
    erase_person(person, actor=None)
    assert not Person.objects.exists()
    assert Suppression.objects.filter(campaign__isnull=True, reason="erased").count() == 2
    # A later import of the same file brings the person back as a record...
    again = find_or_create_person(
        Identity(email="EVA@example.org", phone="06 11 22 33 44", first_names="Eva"),
        actor=None,
        campaign=bravo,
        reason="import",
    ).person
    # ...but never into marketing: import consents are refused, and selection excludes them.
    for campaign in (alpha, bravo):
        assert give(again, campaign, source="import") is None
        assert (
            give(again, campaign, ConsentChoice("sms", "news", "SMS ok"), source="import") is None
        )
    Consent.objects.create(
        person=again,
        campaign=bravo,
        channel="email",
        purpose="news",
        text=consent_text_for(bravo, "news", "x"),
        given_at=again.created_at,
        source_kind="import",
    )  # a consent written behind our back
    assert not contactable(bravo.pk, "email", "news").exists()
    # Only the person's own confirmed consent lifts it, and only for that campaign.
    fresh = give(again, bravo)
    assert fresh is not None and fresh.confirmation_required and not fresh.is_active


def test_merge_with_field_choices_and_undo(alpha, bravo, make_person):
    field = CustomField.objects.create(campaign=alpha, key="quartier", label="Quartier")
    survivor = make_person(
        alpha,
        emails=("jean@example.org",),
        first_names="Jean",
        birth_name="Dupont",
        commune_name="Blois",
        support_level=2,
    )
    merged = make_person(
        bravo,
        emails=("jd@example.org",),
        phones=("0612345678",),
        first_names="Jean-Pierre",
        birth_name="Dupont",
        commune_name="Vendôme",
        birth_date="07/04/1953",
    )
    people_services.add_tags(survivor, ["Bénévole"], campaign=alpha, actor=None)
    people_services.add_tags(merged, ["Bénévole", "Donateur"], campaign=alpha, actor=None)
    people_services.set_custom_values(merged, {field: "Centre"}, actor=None)
    give(merged, bravo)
    merged_actions = set(merged.actions.values_list("pk", flat=True))

    record = merge_people(
        survivor, merged, actor=None, choices={"first_names": "merged", "commune_name": "survivor"}
    )
    survivor.refresh_from_db()
    assert not Person.objects.filter(pk=merged.pk).exists()
    assert survivor.first_names == "Jean-Pierre" and survivor.commune_name == "Blois"
    assert survivor.birth_date.display() == "07/04/1953"  # blank filled from the merged record
    assert set(survivor.emails.values_list("email", flat=True)) == {
        "jean@example.org",
        "jd@example.org",
    }
    assert survivor.emails.get(email="jean@example.org").is_primary
    assert not survivor.emails.get(email="jd@example.org").is_primary
    assert sorted(survivor.person_tags.values_list("tag__name", flat=True)) == [
        "Bénévole",
        "Donateur",
    ]
    assert survivor.consents.filter(campaign=bravo).count() == 1
    assert CustomFieldValue.objects.get(person=survivor).value_text == "Centre"
    assert set(survivor.attachments.values_list("campaign__slug", flat=True)) == {"alpha", "bravo"}
    assert merged_actions <= set(survivor.actions.values_list("pk", flat=True))
    assert survivor.actions.filter(type="merge").exists()

    people_services.add_tags(survivor, ["Après fusion"], campaign=alpha, actor=None)
    restored = undo_merge(record, actor=None)
    survivor.refresh_from_db()
    assert restored.pk == merged.pk and restored.uuid == merged.uuid
    assert (restored.first_names, restored.commune_name) == ("Jean-Pierre", "Vendôme")
    assert survivor.first_names == "Jean" and survivor.birth_year is None
    assert list(restored.emails.values_list("email", "is_primary")) == [("jd@example.org", True)]
    assert [p.e164 for p in restored.phones.all()] == ["+33612345678"]
    assert sorted(restored.person_tags.values_list("tag__name", flat=True)) == [
        "Bénévole",
        "Donateur",
    ]
    assert sorted(survivor.person_tags.values_list("tag__name", flat=True)) == [
        "Après fusion",
        "Bénévole",
    ]
    assert restored.consents.filter(campaign=bravo).count() == 1
    assert CustomFieldValue.objects.get(field=field).person == restored
    assert set(restored.attachments.values_list("campaign__slug", flat=True)) == {"bravo"}
    assert merged_actions <= set(restored.actions.values_list("pk", flat=True))
    assert restored.roll_key == "DUPONT|JEAN PIERRE|1953-04-07"
    record.refresh_from_db()
    assert record.undone_at is not None
    with pytest.raises(ValidationError):
        undo_merge(record, actor=None)
    assert MergeRecord.objects.count() == 1 and Action.objects.filter(type="unmerge").count() == 2
