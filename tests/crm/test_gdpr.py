"""GDPR: the registry covers every model that references a person; access export is
complete; erasure removes personal data and keeps the opt-outs; retention with a dry run."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import models

from cocarde.audit.models import AuditEvent
from crm.gdpr import is_registered, registrations
from crm.models import (
    Action,
    CustomField,
    DuplicateCandidate,
    ElectoralRegistration,
    ExternalId,
    Person,
    RetentionRule,
    Segment,
    SegmentMember,
    Suppression,
)
from crm.services import people as people_services
from crm.services.consent import ConsentChoice, record_consent
from crm.services.merge import merge_people
from crm.services.retention import apply_retention, plan_retention
from crm.tasks import bulk_apply_retention_rules
from territory.models import Election, ElectionRound

pytestmark = pytest.mark.django_db


def relations_to_person() -> list[tuple[type[models.Model], str]]:
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is Person:
                found.append((model, field.name))
    return found


def test_every_model_that_references_a_person_is_registered():
    """Add a model with a link to Person and this fails until it is in crm.gdpr's registry:
    the access export and erasure would otherwise miss it."""
    missing = [
        f"{m._meta.label}.{name}" for m, name in relations_to_person() if not is_registered(m, name)
    ]
    assert not missing, f"register these in the GDPR registry (crm/gdpr.py): {missing}"
    assert len(relations_to_person()) >= 12


@pytest.fixture
def rich_person(alpha, bravo, make_person, make_user):
    """A person touching every registered model."""
    earlier = make_person(alpha, first_names="Léa", birth_name="Morel")
    person = make_person(
        alpha,
        emails=("nina@example.org",),
        phones=("0611223344",),
        first_names="Nina",
        birth_name="Garnier",
        birth_date="03/05/1980",
        street_number="4",
        street_name="Rue Haute",
        postcode="41000",
        commune_name="Blois",
        support_level=1,
    )
    other = make_person(
        bravo,
        emails=("nina.g@example.org",),
        first_names="Nina",
        birth_name="Garnier",
        birth_date="03/05/1980",
    )
    third = make_person(bravo, first_names="Léa", birth_name="Morel", birth_date="03/05/1980")
    ExternalId.objects.create(person=person, source="members-national", value="M-1")
    ElectoralRegistration.objects.create(
        person=person,
        list_type="LP",
        commune_code="41018",
        polling_station_code="0003",
        campaign=alpha,
    )
    people_services.attach(person, bravo, "import")
    people_services.add_tags(person, ["Bénévole"], campaign=alpha, actor=None)
    field = CustomField.objects.create(campaign=alpha, key="quartier", label="Quartier")
    people_services.set_custom_values(person, {field: "Vienne"}, actor=None)
    record_consent(
        person, alpha, ConsentChoice("email", "news", "Oui"), actor=None, source_kind="web"
    )
    people_services.add_note(
        person, "Soutien fervent, à recontacter", campaign=alpha, actor=make_user()
    )
    static = Segment.objects.create(campaign=alpha, name="À rappeler", kind="static")
    SegmentMember.objects.create(segment=static, person=other)  # moves with the merge
    merge_people(person, other, actor=None)
    DuplicateCandidate.objects.create(
        person_a_id=min(person.pk, third.pk),
        person_b_id=max(person.pk, third.pk),
        reason="name_birth",
    )
    DuplicateCandidate.objects.create(person_a=earlier, person_b=person, reason="name_address")
    # What an import changed on her, kept to undo it.
    from django.core.files.base import ContentFile

    from crm.models import ImportChange, ImportRun

    run = ImportRun(campaign=alpha, original_name="adherents.csv", legal_basis="membership")
    run.file.save("adherents.csv", ContentFile(b"Nom\n"), save=True)
    ImportChange.objects.create(
        run=run, kind="snapshot", model="crm.person", row_id=person.pk, person=person,
        data={"street_name": "Rue Basse"},
    )  # fmt: skip
    from territory.models import PersonLocation

    PersonLocation.objects.create(person=person, precision="street", label="Rue Basse")
    # Field work (canvassing): her door, a door result with her answers, a place in a call queue.
    import uuid

    from django.utils import timezone

    from canvassing import models as field

    door_campaign = field.DoorCampaign.objects.create(campaign=alpha, name="Printemps")
    building = field.Building.objects.create(
        door_campaign=door_campaign, address_key="4 rue haute 41000", latitude=47.6, longitude=1.3
    )
    door = field.Door.objects.create(building=building)
    field.Resident.objects.create(door=door, person=person)
    field.Visit.objects.create(
        client_uuid=uuid.uuid4(), door_campaign=door_campaign, door=door, person=person,
        outcome="opened", support_level=1, answers={"vote": True}, visited_at=timezone.now(),
    )  # fmt: skip
    calls = field.PhoneCampaign.objects.create(campaign=alpha, name="Appels", segment=static)
    field.PhoneTarget.objects.create(phone_campaign=calls, person=person)
    # A message she was sent.
    from messaging.models import Blast, Delivery

    blast = Blast.objects.create(campaign=alpha, name="Lettre", segment=static)
    Delivery.objects.create(blast=blast, person=person, address="nina@example.org")
    # A gift (a finance record kept on erasure), the attempt behind it, a monthly gift.
    from donations.models import Donation, DonationAttempt, RecurringGift

    donor = {"first_name": "Nina", "last_name": "Garnier", "email": "nina@example.org"}
    attempt = DonationAttempt.objects.create(
        form_token="gdpr-" + "x" * 27, campaign=alpha, person=person, amount_cents=2000, **donor
    )
    monthly = RecurringGift.objects.create(
        campaign=alpha, person=person, attempt=attempt, amount_cents=2000,
        stripe_subscription_id="sub_gdpr", payment_method_brand="visa",
        payment_method_last4="9731",
    )  # fmt: skip
    Donation.objects.create(
        campaign=alpha, person=person, attempt=attempt, recurring_gift=monthly, method="card",
        amount_cents=2000, received_at=timezone.now(), **donor,
    )  # fmt: skip
    return person


def test_access_export_holds_a_row_of_every_registered_model(rich_person, bravo):
    from crm.services.gdpr import export_person

    data = json.loads(json.dumps(export_person(rich_person)))
    assert data["person"]["first_names"] == "Nina" and data["person"]["support_level"] == 1
    for registration in registrations():
        assert data["related"][registration.key], f"nothing exported for {registration.key}"
    assert "nina.g@example.org" in json.dumps(data)  # the merged record's address too
    assert "suppression_key" not in json.dumps(data["related"]["crm.EmailAddress.person"])


def test_staff_export_is_limited_to_their_campaigns_and_opinions(rich_person, alpha, bravo):
    from crm.services.gdpr import export_person

    data = export_person(rich_person, campaign_ids={bravo.pk}, include_sensitive=False)
    assert "support_level" not in data["person"]
    assert "crm.Note.person" not in data["related"]
    campaigns = {row["campaign_id"] for row in data["related"]["crm.CampaignAttachment.person"]}
    assert campaigns == {bravo.pk}
    assert not data["related"]["crm.Consent.person"]  # the consent was given to alpha


def test_gdpr_export_command(rich_person, tmp_path):
    out = StringIO()
    call_command("gdpr_export", "--email", "NINA@example.org", stdout=out)
    data = json.loads(out.getvalue())
    assert data["person"]["id"] == rich_person.pk
    with pytest.raises(CommandError, match="--email"):
        call_command("gdpr_export", "--email", "nobody@example.org", stdout=StringIO())
    with pytest.raises(CommandError, match="--email"):
        call_command("gdpr_export", "--email", "not-an-address", stdout=StringIO())
    assert AuditEvent.objects.filter(
        action="crm.person.export", target_id=str(rich_person.pk)
    ).exists()


# Apps whose tables erasure must empty of the person (donations keep the finance records the
# law requires, with the donor's identity: checked on their own below).
ERASED_APPS = ("crm", "messaging", "canvassing")
# A canvassing building is an address on the map, shared by its doors; it names no one.
NOT_PERSONAL = {"canvassing.Building"}


def text_columns_contain(needle: str, app_labels: tuple[str, ...] = ERASED_APPS) -> list[str]:
    """Every text column of the apps' tables and of the audit log that still holds the value."""
    hits = []
    models_ = [m for label in app_labels for m in apps.get_app_config(label).get_models()]
    for model in [*models_, AuditEvent]:
        if model._meta.label in NOT_PERSONAL:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.EmailField):
                if model._default_manager.filter(**{f"{field.name}__icontains": needle}).exists():
                    hits.append(f"{model._meta.label}.{field.name}")
            elif isinstance(field, models.JSONField):
                for row in model._default_manager.values_list(field.name, flat=True):
                    if needle.lower() in json.dumps(row, ensure_ascii=False).lower():
                        hits.append(f"{model._meta.label}.{field.name}")
                        break
    return hits


def test_gdpr_erase_command_removes_personal_data_and_keeps_suppression(rich_person, monkeypatch):
    person_id = rich_person.pk
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Cancelled"):
        call_command("gdpr_erase", "--email", "nina@example.org", stdout=StringIO())
    assert Person.objects.filter(pk=person_id).exists()
    out = StringIO()
    call_command("gdpr_erase", "--email", "nina@example.org", "--yes", stdout=out)
    assert "suppression" in out.getvalue()
    assert not Person.objects.filter(pk=person_id).exists()
    for needle in (
        "Nina",
        "Garnier",
        "nina@example.org",
        "nina.g@example.org",
        "+33611223344",
        "Rue Haute",
        "Soutien fervent",
    ):
        assert text_columns_contain(needle) == [], needle
    # The kept monthly gift keeps no card digits.
    assert text_columns_contain("9731", (*ERASED_APPS, "donations")) == []
    # Two emails, one phone, and the roll identity (names and birth date) that keeps the
    # next import of the electoral roll from bringing the person back.
    erased = Suppression.objects.filter(reason="erased", campaign__isnull=True)
    assert sorted(erased.values_list("kind", flat=True)) == ["email", "email", "phone", "roll"]
    assert Action.objects.count() == 0 or not Action.objects.filter(person_id=person_id).exists()
    event = AuditEvent.objects.get(action="crm.person.erase")
    assert event.target_id == str(person_id) and event.actor_label == "system"


def _election_over(campaign, months_ago: int):
    election = Election.objects.create(kind="municipales", name=f"E{campaign.pk}", year=2026)
    ElectionRound.objects.create(
        election=election, number=1, date=dt.date.today() - dt.timedelta(days=31 * months_ago)
    )
    campaign.election = election
    campaign.save()


def test_retention_dry_run_then_apply(alpha, bravo, make_person):
    _election_over(alpha, 9)
    idle = make_person(alpha, emails=("idle@example.org",), first_names="Idle")
    shared = make_person(alpha, first_names="Shared")
    people_services.attach(shared, bravo, "import")
    member = make_person(alpha, first_names="Member", member_status="member")
    active = make_person(alpha, first_names="Active")
    people_services.record_action(active, "petition", campaign=alpha)
    for person in (idle, shared, member):
        Action.objects.filter(person=person).update(
            occurred_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        )
    people_services.add_tags(shared, ["Alpha only"], campaign=alpha, actor=None)
    rule = RetentionRule.objects.create(
        campaign=alpha, months_after_election=6, recent_action_months=3, is_active=True
    )

    plan = plan_retention(rule)
    assert plan.due and plan.erase_ids == [idle.pk] and plan.detach_ids == [shared.pk]
    assert Person.objects.count() == 4  # a dry run changes nothing
    out = StringIO()
    call_command("crm_retention", stdout=out)
    assert "would remove 1" in out.getvalue() and "erase 1" in out.getvalue()

    totals = bulk_apply_retention_rules()
    assert totals == {"rules": 1, "detached": 1, "erased": 1}
    assert not Person.objects.filter(pk=idle.pk).exists()
    assert Suppression.objects.filter(reason="erased").count() == 1
    assert list(shared.attachments.values_list("campaign__slug", flat=True)) == ["bravo"]
    assert not shared.person_tags.exists()
    assert set(Person.objects.values_list("first_names", flat=True)) == {
        "Shared",
        "Member",
        "Active",
    }
    again = apply_retention(rule, actor=None)
    assert (again.detach_count, again.erase_count) == (0, 0)


def test_retention_waits_for_the_election(alpha, make_person):
    _election_over(alpha, 2)
    make_person(alpha, first_names="Idle")
    rule = RetentionRule.objects.create(campaign=alpha, months_after_election=6)
    plan = plan_retention(rule)
    assert not plan.due and plan.reason == "not_yet"
    assert apply_retention(rule, actor=None).erase_count == 0
    assert Person.objects.count() == 1
