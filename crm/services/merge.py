"""Merge two records of one person with a field-by-field choice, and undo it.

The merge keeps the survivor's row (its id stays valid in every link), moves every registered
related row of the merged record onto it, drops the rows that would duplicate one the survivor
already has, and stores a snapshot detailed enough to put everything back. Consents move with
their proof; opt-outs are keyed by address, so they keep applying to the survivor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cocarde.audit.services import record_event
from crm.gdpr import registrations
from crm.models import ActionType, DuplicateCandidate, MergeRecord, Person
from crm.services.gdpr import serialise
from crm.services.people import (
    ADDRESS_FIELDS,
    ENGAGEMENT_FIELDS,
    IDENTITY_FIELDS,
    SENSITIVE_FIELDS,
    record_action,
    refresh_keys,
)

BIRTH_COLUMNS = ("birth_year", "birth_month", "birth_day")
# What staff choose between, field by field ("birth_date" moves its three columns together).
MERGE_FIELDS = (
    *IDENTITY_FIELDS,
    "birth_date",
    *ADDRESS_FIELDS,
    *ENGAGEMENT_FIELDS,
    *SENSITIVE_FIELDS,
)
# Related rows unique per person: the merged record's copy is dropped when the survivor has one.
UNIQUE_PER_PERSON = {
    "crm.PersonTag.person": ("tag_id",),
    "crm.CampaignAttachment.person": ("campaign_id", "reason"),
    "crm.CustomFieldValue.person": ("field_id",),
    "crm.ElectoralRegistration.person": ("commune_code", "list_type"),
    "crm.PhoneNumber.person": ("e164",),
    "crm.SegmentMember.person": ("segment_id",),
}
NOT_MOVED = {
    "crm.DuplicateCandidate.person_a",
    "crm.DuplicateCandidate.person_b",
    # Derived from the address (one per person): goes with the merged record; the survivor's
    # is recomputed by territory's geocode_people when its address changed.
    "territory.PersonLocation.person",
}


def _columns(field: str) -> tuple[str, ...]:
    if field == "birth_date":
        return BIRTH_COLUMNS
    if field == "point_person":
        return ("point_person_id",)
    return (field,)


def merge_preview(survivor: Person, merged: Person) -> list[dict[str, Any]]:
    """The fields that differ, with both values, for the choice screen."""
    rows = []
    for field in MERGE_FIELDS:
        columns = _columns(field)
        mine = tuple(getattr(survivor, c) for c in columns)
        theirs = tuple(getattr(merged, c) for c in columns)
        if mine != theirs:
            if field == "birth_date":
                left, right = survivor.birth_date.display(), merged.birth_date.display()
            elif field == "point_person":
                left, right = str(survivor.point_person or ""), str(merged.point_person or "")
            else:
                left = getattr(
                    survivor, f"get_{field}_display", lambda f=field: getattr(survivor, f)
                )()
                right = getattr(
                    merged, f"get_{field}_display", lambda f=field: getattr(merged, f)
                )()
            rows.append(
                {
                    "field": field,
                    "survivor": left,
                    "merged": right,
                    "default": "survivor" if any(mine) else "merged",
                }
            )
    return rows


@transaction.atomic
def merge_people(
    survivor: Person,
    merged: Person,
    *,
    actor: Any,
    choices: Mapping[str, str] | None = None,
) -> MergeRecord:
    """Merge `merged` into `survivor`. `choices` maps a field to "merged" to take that record's
    value; by default the survivor's non-empty values win and its blanks are filled."""
    if survivor.pk == merged.pk:
        raise ValidationError(_("A record cannot be merged with itself."))
    locked = {
        p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])
    }
    if len(locked) != 2:
        raise ValidationError(_("One of the records no longer exists."))
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    choices = dict(choices or {})
    unknown = set(choices) - set(MERGE_FIELDS)
    if unknown or set(choices.values()) - {"survivor", "merged"}:
        raise ValidationError(_("Unknown merge choice: %(f)s") % {"f": ", ".join(sorted(unknown))})

    snapshot: dict[str, Any] = {
        "merged": serialise(merged),
        "merged_interests": list(merged.interests.values_list("pk", flat=True)),
        "survivor_before": {},
        "survivor_interests_before": list(survivor.interests.values_list("pk", flat=True)),
        "moved": {},
        "dropped": {},
        "primaries": {},
    }
    for field in MERGE_FIELDS:
        columns = _columns(field)
        mine = [getattr(survivor, c) for c in columns]
        theirs = [getattr(merged, c) for c in columns]
        take = choices.get(field) or ("merged" if not any(mine) and any(theirs) else "survivor")
        if take == "merged" and mine != theirs:
            for column, value in zip(columns, theirs, strict=True):
                snapshot["survivor_before"][column] = getattr(survivor, column)
                setattr(survivor, column, value)
    survivor.interests.add(*merged.interests.all())

    for registration in registrations():
        key = registration.key
        if key in NOT_MOVED:
            continue
        model, person_field = registration.model, registration.person_field
        rows = model._default_manager.filter(**{person_field: merged})
        unique = UNIQUE_PER_PERSON.get(key)
        if unique:
            taken = set(
                model._default_manager.filter(**{person_field: survivor}).values_list(*unique)
            )
            for row in rows:
                if tuple(getattr(row, c) for c in unique) in taken:
                    snapshot["dropped"].setdefault(key, []).append(serialise(row))
                    row.delete()
        if any(f.name == "is_primary" for f in model._meta.concrete_fields):
            primaries = list(rows.filter(is_primary=True).values_list("pk", flat=True))
            if primaries:
                snapshot["primaries"][key] = primaries
                rows.update(is_primary=False)
        moved = list(rows.values_list("pk", flat=True))
        if moved:
            snapshot["moved"][key] = moved
            model._default_manager.filter(pk__in=moved).update(**{person_field: survivor})

    merged_id = merged.pk
    merged.delete()  # its duplicate-review pairs go with it
    DuplicateCandidate.objects.filter(person_a=survivor, person_b_id=merged_id).delete()
    survivor.save()
    refresh_keys(survivor)
    record = MergeRecord.objects.create(
        survivor=survivor,
        merged_person_id=merged_id,
        snapshot=snapshot,
        merged_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record_action(
        survivor,
        ActionType.MERGED,
        campaign=None,
        actor=actor,
        data={"merged_person": merged_id, "merge": record.pk},
    )
    record_event(
        "crm.person.merge",
        actor=actor,
        target=survivor,
        data={"merged_person": merged_id, "merge": record.pk},
    )
    return record


@transaction.atomic
def undo_merge(record: MergeRecord, *, actor: Any) -> Person:
    """Bring the merged record back with its rows; the survivor gets its former values.

    Rows added to the survivor after the merge stay with the survivor.
    """
    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    if record.undone_at is not None:
        raise ValidationError(_("This merge was already undone."))
    snapshot = record.snapshot
    survivor = Person.objects.select_for_update().get(pk=record.survivor_id)
    fields = dict(snapshot["merged"])
    if Person.objects.filter(pk=fields["id"]).exists():
        raise ValidationError(_("The merged record exists again; nothing to undo."))
    restored = Person(**fields)
    restored.save(force_insert=True)
    Person.objects.filter(pk=restored.pk).update(**{k: fields[k] for k in ("created_at",)})
    restored.interests.set(snapshot["merged_interests"])

    by_key = {r.key: r for r in registrations()}
    for key, pks in snapshot["moved"].items():
        registration = by_key.get(key)
        if registration is None:
            continue
        registration.model._default_manager.filter(pk__in=pks).update(
            **{registration.person_field: restored}
        )
    for key, pks in snapshot["primaries"].items():
        registration = by_key.get(key)
        if registration is not None:
            registration.model._default_manager.filter(pk__in=pks).update(is_primary=True)
    for key, rows in snapshot["dropped"].items():
        registration = by_key.get(key)
        if registration is None:
            continue
        for data in rows:
            try:
                with transaction.atomic():
                    registration.model(**data).save(force_insert=True)
            except IntegrityError:
                continue  # re-created since, or its tag/field was deleted

    for column, value in snapshot["survivor_before"].items():
        setattr(survivor, column, value)
    survivor.save()
    survivor.interests.set(snapshot["survivor_interests_before"])
    refresh_keys(survivor)
    refresh_keys(restored)
    record.undone_at = timezone.now()
    record.undone_by = actor if getattr(actor, "is_authenticated", False) else None
    record.save(update_fields=["undone_at", "undone_by"])
    for person in (survivor, restored):
        record_action(
            person, ActionType.UNMERGED, campaign=None, actor=actor, data={"merge": record.pk}
        )
    restored.refresh_from_db()
    record_event(
        "crm.person.unmerge",
        actor=actor,
        target=survivor,
        data={"restored_person": restored.pk, "merge": record.pk},
    )
    return restored


@transaction.atomic
def dismiss_duplicate(candidate: DuplicateCandidate, *, actor: Any) -> None:
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.resolved_at = timezone.now()
    candidate.resolved_by = actor if getattr(actor, "is_authenticated", False) else None
    candidate.save(update_fields=["status", "resolved_at", "resolved_by"])
    record_event("crm.duplicate.dismiss", actor=actor, target=candidate)
