"""What a site form does to the CRM: one call per valid submission.

The sites app calls `record_web_action()` from its form pages (petition, signup, volunteer,
event RSVP). It checks for abuse, finds or creates the person without ever telling the visitor
whether they were known, records the action, the consents with the exact text shown, the page's
tags and the campaign attachment, and sends the double opt-in email after commit when asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import transaction
from django.http import HttpRequest

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from crm import abuse
from crm.models import Action, CampaignAttachment, Consent, EmailAddress
from crm.models.activity import WEB_ACTION_TYPES
from crm.services import people as people_services
from crm.services.consent import ConsentChoice, record_consent
from crm.services.matching import Identity, find_or_create_person

CONFIRMATION_SALT = "crm.confirm-consent"
CONFIRMATION_MAX_AGE = 14 * 24 * 60 * 60


@dataclass(frozen=True)
class WebActionResult:
    """What the thank-you step may know. Deliberately nothing about who the person was."""

    action_id: int
    confirmation_sent: bool
    # The person's first action of this type on this page: a page counter counts it.
    first_on_page: bool = True


def confirmation_token(person_uuid: str, consent_ids: Sequence[int]) -> str:
    return signing.dumps({"p": str(person_uuid), "c": list(consent_ids)}, salt=CONFIRMATION_SALT)


def read_confirmation_token(token: str) -> tuple[str, list[int]]:
    """(person uuid, consent ids); raises signing.BadSignature (or SignatureExpired)."""
    data = signing.loads(token, salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
    return str(data["p"]), [int(i) for i in data["c"]]


def record_web_action(
    *,
    campaign: Campaign,
    action_type: str,
    identity: Identity | Mapping[str, Any],
    consents: Sequence[ConsentChoice] = (),
    tags: Sequence[str] = (),
    source_url: str = "",
    page_id: int | None = None,
    request: HttpRequest | None,
    double_opt_in: bool = False,
    data: Mapping[str, Any] | None = None,
) -> WebActionResult:
    """Record one valid submission of a public form.

    Raises `crm.abuse.SubmissionRefused` (spam, rate limit: show `error.message`, nothing was
    stored) and `django.core.exceptions.ValidationError` for an invalid email or phone (naming
    the field). With a request, the abuse checks are mandatory; without one (tests, trusted
    server-side callers) they are skipped.
    """
    if action_type not in WEB_ACTION_TYPES:
        raise ValueError(f"Not a web action type: {action_type!r}")
    if not isinstance(identity, Identity):
        identity = Identity.from_mapping(dict(identity))
    email = people_services.clean_email(identity.email) if identity.email else ""
    phone = people_services.clean_phone(identity.phone) if identity.phone else None
    if not email and phone is None:
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError({"email": _("Give an email address or a phone number.")})
    if request is not None:
        abuse.check_submission(
            request,
            targets=[email, phone.e164 if phone else ""],
            scope=f"{campaign.pk}:{page_id or source_url}",
        )
    with transaction.atomic():
        result = find_or_create_person(
            identity,
            actor=None,
            campaign=campaign,
            reason=CampaignAttachment.Reason.SITE,
            source=source_url,
        )
        person = result.person
        first_on_page = (
            page_id is None
            or not Action.objects.filter(
                person=person, type=action_type, source_page_id=page_id
            ).exists()
        )
        action = people_services.record_action(
            person,
            action_type,
            campaign=campaign,
            source=source_url,
            page_id=page_id,
            data=dict(data or {}),
        )
        consent_rows: list[Consent] = []
        for choice in consents:
            consent = record_consent(
                person,
                campaign,
                choice,
                actor=None,
                source_kind=Consent.SourceKind.WEB,
                source_detail=source_url,
                double_opt_in=double_opt_in,
            )
            if consent is not None:
                consent_rows.append(consent)
        if tags:
            people_services.add_tags(person, tags, campaign=campaign, actor=None)
        pending = [c.pk for c in consent_rows if c.confirmation_required]
        confirmation = bool(pending and email)
        if confirmation:
            email_id = EmailAddress.objects.get(email=email).pk
            person_uuid = str(person.uuid)
            base_url = public_base_url(request)
            transaction.on_commit(
                lambda: _enqueue_confirmation(email_id, person_uuid, pending, campaign.pk, base_url)
            )
        record_event(
            "crm.web_action",
            actor=None,
            campaign=campaign,
            target=person,
            data={"type": action_type, "page": page_id, "matched_by": result.rule or "new"},
        )
    return WebActionResult(
        action_id=action.pk, confirmation_sent=confirmation, first_on_page=first_on_page
    )


def public_base_url(request: HttpRequest | None) -> str:
    """Links in emails point at the site the person used, else at the platform's address."""
    from django.conf import settings

    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/")


def _enqueue_confirmation(
    email_id: int, person_uuid: str, consent_ids: list[int], campaign_id: int, base_url: str
) -> None:
    from crm.tasks import transactional_send_consent_confirmation

    transactional_send_consent_confirmation.delay(
        email_id, person_uuid, consent_ids, campaign_id, base_url
    )
