"""State changes of people: create, update, contact points, attachments, tags, notes, actions.

Every public function takes the acting user as keyword-only `actor` (None for the system or a
supporter acting on their own data), runs in a transaction and writes an audit event without
personal data in it (field names, never values).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign
from crm.models import (
    Action,
    ActionType,
    CampaignAttachment,
    CustomField,
    CustomFieldValue,
    EmailAddress,
    ExternalId,
    Note,
    Person,
    PersonTag,
    PhoneNumber,
    Tag,
)
from crm.normalize import (
    NormalisationError,
    keyed_hash,
    normalise_email,
    normalise_phone,
    parse_birth_date,
)

# Fields staff (and supporters, for their own record) may set through update_person.
IDENTITY_FIELDS = (
    "sex",
    "first_names",
    "birth_name",
    "usage_name",
    "birth_place_code",
    "birth_place_name",
    "birth_department",
    "birth_country",
    "nationality",
)
ADDRESS_FIELDS = (
    "street_number",
    "street_repetition",
    "street_name",
    "address_complement",
    "locality",
    "postcode",
    "commune_code",
    "commune_name",
    "country",
    "latitude",
    "longitude",
    "polling_station_code",
    "circonscription_code",
    "iris_code",
)
ENGAGEMENT_FIELDS = (
    "member_status",
    "member_since",
    "membership_last_fee_on",
    "point_person",
    "first_source",
)
SENSITIVE_FIELDS = ("support_level", "supporter_status")
EDITABLE_FIELDS = frozenset(
    (*IDENTITY_FIELDS, *ADDRESS_FIELDS, *ENGAGEMENT_FIELDS, *SENSITIVE_FIELDS, "birth_date")
)


def suppression_key_for(kind: str, normalised_value: str) -> str:
    key = settings.CRM_SUPPRESSION_KEY or settings.SECRET_KEY
    return keyed_hash(kind, normalised_value, key)


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def clean_email(value: str, field: str = "email") -> str:
    try:
        return normalise_email(value)
    except NormalisationError as error:
        raise ValidationError({field: _("Enter a valid email address.")}) from error


def clean_phone(value: str, field: str = "phone") -> Any:
    try:
        return normalise_phone(value)
    except NormalisationError as error:
        raise ValidationError(
            {field: _("Enter a valid phone number, e.g. 06 12 34 56 78 or +33 6 12 34 56 78.")}
        ) from error


def _apply_fields(person: Person, fields: Mapping[str, Any]) -> list[str]:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Unknown person fields: {', '.join(sorted(unknown))}")
    changed = []
    for name, value in fields.items():
        if name == "birth_date":
            if isinstance(value, str) or value is None:
                try:
                    value = parse_birth_date(value)
                except NormalisationError as error:
                    raise ValidationError(
                        {"birth_date": _("Enter a date as DD/MM/YYYY, 00/00/YYYY or YYYY.")}
                    ) from error
            if person.birth_date != (value or parse_birth_date("")):
                person.set_birth_date(value)
                changed.append(name)
            continue
        if value is None and name not in (
            "support_level",
            "latitude",
            "longitude",
            "point_person",
            "member_since",
            "membership_last_fee_on",
        ):
            value = ""
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed.append(name)
    return changed


def add_email(person: Person, email: str, *, primary: bool = False) -> EmailAddress:
    """Attach a (normalised) address. Refuses one that belongs to someone else."""
    email = clean_email(email)
    existing = EmailAddress.objects.filter(email=email).first()
    if existing is not None:
        if existing.person_id != person.pk:
            raise ValidationError(
                {
                    "emails": _("%(email)s belongs to another person: merge the two records.")
                    % {"email": email}
                }
            )
        if primary and not existing.is_primary:
            person.emails.exclude(pk=existing.pk).update(is_primary=False)
            existing.is_primary = True
            existing.save(update_fields=["is_primary"])
        return existing
    primary = primary or not person.emails.exists()
    if primary:
        person.emails.update(is_primary=False)
    try:
        with transaction.atomic():
            return EmailAddress.objects.create(
                person=person,
                email=email,
                is_primary=primary,
                suppression_key=suppression_key_for("email", email),
            )
    except IntegrityError as error:  # the same address added concurrently to another person
        raise ValidationError(
            {"emails": _("%(email)s belongs to another person.") % {"email": email}}
        ) from error


def add_phone(person: Person, phone: str, *, primary: bool = False) -> PhoneNumber | None:
    parsed = clean_phone(phone)
    if parsed is None:
        return None
    existing = person.phones.filter(e164=parsed.e164).first()
    if existing is not None:
        return existing
    primary = primary or not person.phones.exists()
    if primary:
        person.phones.update(is_primary=False)
    return PhoneNumber.objects.create(
        person=person,
        e164=parsed.e164,
        kind=parsed.kind,
        is_primary=primary,
        suppression_key=suppression_key_for("phone", parsed.e164),
    )


def refresh_keys(person: Person) -> None:
    person.compute_keys()
    Person.objects.filter(pk=person.pk).update(
        roll_key=person.roll_key,
        roll_usage_key=person.roll_usage_key,
        last_name_key=person.last_name_key,
        first_names_key=person.first_names_key,
        address_key=person.address_key,
        commune_key=person.commune_key,
        search_text=person.search_text,
    )


def attach(
    person: Person, campaign: Campaign | int, reason: str, *, detail: str = ""
) -> CampaignAttachment:
    """Record why this campaign knows this person (idempotent)."""
    campaign_id = campaign if isinstance(campaign, int) else campaign.pk
    attachment, created = CampaignAttachment.objects.get_or_create(
        person=person, campaign_id=campaign_id, reason=reason, defaults={"detail": detail[:300]}
    )
    if not created:
        attachment.save(update_fields=["last_at"])
    return attachment


def record_action(
    person: Person,
    type: str,
    *,
    campaign: Campaign | int | None,
    actor: Any = None,
    occurred_at: dt.datetime | None = None,
    source: str = "",
    page_id: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> Action:
    if type not in ActionType.values:
        raise ValueError(f"Unknown action type: {type!r}")
    campaign_id = campaign if isinstance(campaign, int) or campaign is None else campaign.pk
    return Action.objects.create(
        person=person,
        campaign_id=campaign_id,
        type=type,
        occurred_at=occurred_at or timezone.now(),
        source=source[:500],
        source_page_id=page_id,
        data=dict(data or {}),
        actor=_user_or_none(actor),
    )


@transaction.atomic
def create_person(
    *,
    actor: Any,
    campaign: Campaign | None,
    reason: str = CampaignAttachment.Reason.MANUAL,
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    source: str = "",
    external_id: tuple[str, str] | None = None,
    interests: Sequence[Any] = (),
    **fields: Any,
) -> Person:
    person = Person(first_source=source[:300], first_campaign=campaign)
    _apply_fields(person, fields)
    person.full_clean(exclude=["point_person", "first_campaign"])
    person.save()
    if interests:
        person.interests.set(interests)
    for index, email in enumerate(e for e in emails if e):
        add_email(person, email, primary=index == 0)
    for index, phone in enumerate(p for p in phones if p):
        add_phone(person, phone, primary=index == 0)
    if external_id:
        ExternalId.objects.create(
            person=person, source=external_id[0], value=external_id[1], campaign=campaign
        )
    refresh_keys(person)
    if campaign is not None:
        attach(person, campaign, reason, detail=source)
    record_event("crm.person.create", actor=actor, campaign=campaign, target=person)
    return person


@transaction.atomic
def update_person(
    person: Person,
    *,
    actor: Any,
    campaign: Campaign | None = None,
    emails: Sequence[str] | None = None,
    phones: Sequence[str] | None = None,
    interests: Sequence[Any] | None = None,
    record_timeline: bool = True,
    **fields: Any,
) -> list[str]:
    """Change fields and, when given, replace the contact points (first one is primary).

    Removing an address that carries an opt-out keeps the opt-out: suppressions are keyed by
    the address itself, not by the row.
    """
    person = Person.objects.select_for_update().get(pk=person.pk)
    changed = _apply_fields(person, fields)
    person.full_clean(exclude=["point_person", "first_campaign"])
    person.save()
    if emails is not None:
        wanted = [clean_email(e, "emails") for e in emails if e.strip()]
        if [e.email for e in person.emails.all()] != wanted:
            person.emails.exclude(email__in=wanted).delete()
            for index, email in enumerate(wanted):
                add_email(person, email, primary=index == 0)
            changed.append("emails")
    if phones is not None:
        parsed = [clean_phone(p, "phones") for p in phones if p.strip()]
        wanted_phones = [p.e164 for p in parsed if p]
        if [p.e164 for p in person.phones.all()] != wanted_phones:
            person.phones.exclude(e164__in=wanted_phones).delete()
            for index, e164 in enumerate(wanted_phones):
                add_phone(person, e164, primary=index == 0)
            changed.append("phones")
    if interests is not None:
        wanted_interests = {i.pk for i in interests}
        if set(person.interests.values_list("pk", flat=True)) != wanted_interests:
            person.interests.set(wanted_interests)
            changed.append("interests")
    refresh_keys(person)
    if changed:
        if record_timeline:
            record_action(
                person,
                ActionType.UPDATED,
                campaign=campaign,
                actor=actor,
                data={"fields": sorted(changed)},
            )
        record_event(
            "crm.person.update",
            actor=actor,
            campaign=campaign,
            target=person,
            data={"fields": sorted(changed)},
        )
    return changed


def _tag_for(name: str, campaign: Campaign | None) -> Tag:
    name = name.strip()[:100]
    slug = slugify(name)[:120] or "tag"
    # get_or_create retries the read when a concurrent request created the same tag first
    # (the unique constraint fires inside its savepoint), instead of failing the caller.
    tag, _created = Tag.objects.get_or_create(campaign=campaign, slug=slug, defaults={"name": name})
    return tag


def tag_for(name: str, campaign: Campaign | None) -> Tag:
    """The tag of this name in this campaign (national when None), created when new."""
    return _tag_for(name, campaign)


@transaction.atomic
def add_tags(
    person: Person, names: Iterable[str], *, campaign: Campaign | None, actor: Any
) -> list[Tag]:
    """Apply tags (created for the campaign when new). Returns the tags newly applied."""
    added = []
    for name in names:
        if not name.strip():
            continue
        tag = _tag_for(name, campaign)
        _, created = PersonTag.objects.get_or_create(
            person=person, tag=tag, defaults={"added_by": _user_or_none(actor)}
        )
        if created:
            added.append(tag)
            record_action(
                person,
                ActionType.TAG_ADDED,
                campaign=campaign,
                actor=actor,
                data={"tag": tag.name},
            )
    if added and _user_or_none(actor):
        record_event(
            "crm.person.tag",
            actor=actor,
            campaign=campaign,
            target=person,
            data={"tags": [t.pk for t in added]},
        )
    return added


@transaction.atomic
def remove_tag(person: Person, tag: Tag, *, actor: Any) -> bool:
    deleted, _ = PersonTag.objects.filter(person=person, tag=tag).delete()
    if deleted:
        record_action(
            person,
            ActionType.TAG_REMOVED,
            campaign=tag.campaign,
            actor=actor,
            data={"tag": tag.name},
        )
        record_event(
            "crm.person.untag",
            actor=actor,
            campaign=tag.campaign,
            target=person,
            data={"tag": tag.pk},
        )
    return bool(deleted)


@transaction.atomic
def add_note(person: Person, text: str, *, campaign: Campaign, actor: Any) -> Note:
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write something first.")})
    note = Note.objects.create(
        person=person, campaign=campaign, text=text, author=_user_or_none(actor)
    )
    record_action(person, ActionType.NOTE, campaign=campaign, actor=actor, data={"note": note.pk})
    record_event("crm.person.note", actor=actor, campaign=campaign, target=person)
    return note


@transaction.atomic
def set_custom_values(
    person: Person, values: Mapping[CustomField, Any], *, actor: Any
) -> list[str]:
    changed = []
    for field, value in values.items():
        if value in (None, ""):
            if CustomFieldValue.objects.filter(person=person, field=field).delete()[0]:
                changed.append(field.key)
            continue
        row = CustomFieldValue.objects.filter(person=person, field=field).first() or (
            CustomFieldValue(person=person, field=field)
        )
        before = row.value if row.pk else None
        try:
            row.set_value(value)
        except (ValueError, ArithmeticError) as error:
            raise ValidationError({field.key: _("Enter a valid value.")}) from error
        if row.pk is None or row.value != before:
            row.save()
            changed.append(field.key)
    if changed:
        record_event(
            "crm.person.custom_fields", actor=actor, target=person, data={"fields": changed}
        )
    return changed
