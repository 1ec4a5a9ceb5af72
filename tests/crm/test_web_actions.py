"""Site form to CRM: what `record_web_action` does with a valid submission, and with abuse."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core import mail
from django.core.exceptions import ValidationError

from cocarde.audit.models import AuditEvent
from crm import abuse
from crm.models import (
    Action,
    ActionType,
    CampaignAttachment,
    Consent,
    ConsentText,
    Person,
    PersonTag,
)
from crm.selectors import contactable, count_web_actions
from crm.services.consent import ConsentChoice
from crm.services.web_actions import record_web_action
from tests.crm.conftest import PETITION_TEXT

pytestmark = pytest.mark.django_db

PAGE = "https://alpha.example/petition-ecoles/"


def sign(campaign, request=None, *, email="jean.dupont@example.org", consent=True, **extra):
    identity = {"email": email, "first_names": "Jean", "last_name": "Dupont", **extra}
    return record_web_action(
        campaign=campaign,
        action_type=ActionType.SIGNED_PETITION,
        identity=identity,
        consents=[ConsentChoice("email", "news", PETITION_TEXT)] if consent else [],
        tags=["Pétition écoles"],
        source_url=PAGE,
        page_id=42,
        request=request,
    )


def crm_rows() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_app_config("crm").get_models()}


def test_new_person_gets_action_consent_proof_tags_and_attachment(alpha, form_request):
    result = sign(alpha, form_request(), phone="06 12 34 56 78")
    person = Person.objects.get()
    assert (person.first_names, person.birth_name) == ("Jean", "Dupont")
    assert [p.e164 for p in person.phones.all()] == ["+33612345678"]
    action = Action.objects.get(pk=result.action_id)
    assert (action.person, action.type, action.campaign, action.source, action.source_page_id) == (
        person,
        "petition",
        alpha,
        PAGE,
        42,
    )
    consent = Consent.objects.get(person=person)
    assert consent.campaign == alpha and consent.channel == "email" and consent.purpose == "news"
    assert consent.text.text == PETITION_TEXT and consent.text.version == 1
    assert consent.source_kind == "web" and consent.source_detail == PAGE and consent.is_active
    assert CampaignAttachment.objects.filter(person=person, campaign=alpha, reason="site").exists()
    assert PersonTag.objects.get(person=person).tag.campaign == alpha
    assert person.first_source == PAGE and person.first_campaign == alpha
    assert list(contactable(alpha.pk, "email", "news")) == [person]
    assert count_web_actions(42, "petition") == 1


def test_known_person_in_other_case_is_the_same_record_and_not_rewritten(
    alpha, bravo, form_request
):
    first = sign(alpha, form_request("198.51.100.1"))
    second = sign(
        bravo,
        form_request("198.51.100.2"),
        email="JEAN.Dupont@EXAMPLE.org",
        first_names="Usurpateur",
        phone="06 12 34 56 78",
    )
    # The visitor learns nothing: same shape of answer for a new and a known person.
    assert type(first) is type(second) and first.confirmation_sent == second.confirmation_sent
    person = Person.objects.get()
    assert person.first_names == "Jean"  # a public form never overwrites a known identity
    assert person.phones.count() == 1  # but it fills what was missing
    assert set(person.attachments.values_list("campaign__slug", flat=True)) == {"alpha", "bravo"}
    assert person.actions.filter(type="petition").count() == 2
    assert ConsentText.objects.filter(text=PETITION_TEXT).count() == 2  # one per controller


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"honeypot": "http://spam.example"}, abuse.SpamDetected),
        ({"proof": False}, abuse.SpamDetected),
    ],
)
def test_spam_gets_a_clear_message_and_stores_nothing(alpha, form_request, kwargs, error):
    before, audit_before = crm_rows(), AuditEvent.objects.count()
    with pytest.raises(error) as refused:
        sign(alpha, form_request(**kwargs))
    assert str(refused.value.message)  # something to show the visitor
    assert crm_rows() == before and AuditEvent.objects.count() == audit_before


def test_a_solved_challenge_is_accepted_once(alpha, form_request):
    request = form_request()
    sign(alpha, request)
    with pytest.raises(abuse.SpamDetected):
        sign(alpha, request, email="autre@example.org")
    assert Person.objects.count() == 1


def test_rate_limit_per_ip(alpha, form_request, settings):
    settings.CRM_RATE_LIMIT_PER_IP = (3, 600)
    for n in range(3):
        sign(alpha, form_request("192.0.2.10"), email=f"p{n}@example.org")
    before = crm_rows()
    with pytest.raises(abuse.RateLimited):
        sign(alpha, form_request("192.0.2.10"), email="p9@example.org")
    assert crm_rows() == before
    sign(alpha, form_request("192.0.2.11"), email="p9@example.org")  # another visitor is fine


def test_rate_limit_per_target(alpha, form_request, settings):
    settings.CRM_RATE_LIMIT_PER_TARGET = (2, 3600)
    sign(alpha, form_request("192.0.2.1"))
    sign(alpha, form_request("192.0.2.2"), email="Jean.Dupont@example.org")
    with pytest.raises(abuse.RateLimited):
        sign(alpha, form_request("192.0.2.3"))
    assert Action.objects.filter(type="petition").count() == 2


def test_bad_email_is_refused_naming_the_field(alpha, form_request):
    with pytest.raises(ValidationError) as error:
        sign(alpha, form_request(), email="pas-une-adresse")
    assert "email" in error.value.message_dict
    assert not Person.objects.exists()


def test_double_opt_in_sends_a_signed_link_after_commit(
    alpha, form_request, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = record_web_action(
            campaign=alpha,
            action_type=ActionType.SIGNED_UP,
            identity={"email": "lea@example.org", "first_names": "Léa"},
            consents=[ConsentChoice("email", "news", PETITION_TEXT)],
            source_url=PAGE,
            request=form_request(),
            double_opt_in=True,
        )
    assert result.confirmation_sent
    consent = Consent.objects.get()
    assert consent.confirmation_required and not consent.is_active
    assert not contactable(alpha.pk, "email", "news").exists()
    (message,) = mail.outbox
    assert message.to == ["lea@example.org"] and "Alpha 2027" in message.subject
    link = next(line for line in message.body.splitlines() if "/crm/confirmer/" in line)
    path = link.split("testserver", 1)[-1].strip()
    assert client.get(path).status_code == 200
    assert not Consent.objects.get().is_active  # a link scanner's GET confirms nothing
    client.post(path)
    consent.refresh_from_db()
    assert consent.confirmed_at is not None and consent.is_active
    assert contactable(alpha.pk, "email", "news").count() == 1
    assert client.get(path[:-3] + "xx/").status_code in (400, 404)
