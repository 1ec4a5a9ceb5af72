"""GDPR tools: access export (everything held about a person) and erasure.

Both walk `crm.gdpr`'s registry, so a model registered there is exported and erased without
touching this module.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from cocarde.audit.services import record_event
from crm.gdpr import OnErase, erasers, registrations
from crm.models import Person, Suppression
from crm.services.consent import roll_identities, suppress_keys
from crm.services.people import suppression_key_for

PERSON_EXCLUDE = ("search_text",)
PERSON_SENSITIVE = ("support_level", "supporter_status")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def serialise(row: Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in row._meta.concrete_fields:
        if field.name in exclude:
            continue
        data[field.attname if field.is_relation else field.name] = _plain(
            getattr(row, field.attname)
        )
    return data


def export_person(
    person: Person, *, campaign_ids: set[int] | None = None, include_sensitive: bool = True
) -> dict[str, Any]:
    """Everything held about this person, as JSON-ready data.

    `campaign_ids` limits campaign-owned rows to those campaigns (a campaign's staff export what
    their campaign holds; None is everything). `include_sensitive=False` leaves out political
    opinions (support level, notes, action details) for roles without sensitive access.
    """
    person_exclude = PERSON_EXCLUDE + (() if include_sensitive else PERSON_SENSITIVE)
    export: dict[str, Any] = {
        "format": "cocarde.crm.person/1",
        "exported_at": timezone.now().isoformat(),
        "person": serialise(person, exclude=person_exclude),
        "interests": list(person.interests.values_list("name", flat=True)),
        "related": {},
    }
    for registration in registrations():
        if not include_sensitive and registration.model._meta.model_name == "note":
            continue
        rows = registration.model._default_manager.filter(**{registration.person_field: person})
        if campaign_ids is not None and registration.campaign_field:
            rows = rows.filter(
                Q(**{f"{registration.campaign_field}__in": campaign_ids})
                | Q(**{f"{registration.campaign_field}__isnull": True})
            )
        exclude = registration.exclude + (() if include_sensitive else registration.sensitive)
        key = registration.key
        export["related"][key] = [serialise(row, exclude=exclude) for row in rows.order_by("pk")]
    return export


@transaction.atomic
def erase_person(person: Person, *, actor: Any, reason: str = "request") -> dict[str, int]:
    """Remove the person's data everywhere; keep what the law requires and the opt-outs.

    Every email and phone becomes a platform-wide suppression (keyed hash), so no import can
    re-add the person to marketing. Registered KEEP rows (finance records) are detached and
    keep their own legally required copy. Logged with who did it, without personal data.
    """
    person = Person.objects.select_for_update().get(pk=person.pk)
    emails = dict(person.emails.values_list("email", "suppression_key"))
    phones = dict(person.phones.values_list("e164", "suppression_key"))
    keys = [("email", k) for k in emails.values()] + [("phone", k) for k in phones.values()]
    keys += [("roll", suppression_key_for("roll", k)) for k in roll_identities(person)]
    suppressed = suppress_keys(keys, campaign_id=None, channel="", reason=Suppression.Reason.ERASED)
    by_address = {
        name: erase(person, list(emails), list(phones)) for name, erase in erasers().items()
    }
    kept = 0
    for registration in registrations():
        if registration.on_erase == OnErase.KEEP:
            kept += registration.model._default_manager.filter(
                **{registration.person_field: person}
            ).update(**{registration.person_field: None})
    campaigns = sorted(set(person.attachments.values_list("campaign_id", flat=True)))
    record_event(
        "crm.person.erase",
        actor=actor,
        target=person,
        data={
            "reason": reason,
            "campaigns": campaigns,
            "suppressed": len(keys),
            "kept_records": kept,
            "erased_by_address": by_address,
        },
    )
    person.delete()
    return {"suppressed": suppressed, "kept": kept}
