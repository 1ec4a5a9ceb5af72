"""Editing a field campaign's settings (door-to-door or phone), the same way for both."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from canvassing.surveys import validate_survey
from cocarde.audit.services import record_event
from cocarde.tenancy.permissions import Capability, can


def update_settings(
    instance: models.Model,
    *,
    actor: Any,
    action: str,
    related: tuple[str, Iterable[Any]] | None = None,
    **fields: Any,
) -> list[str]:
    """Change the settings of `instance` (never its owning campaign) under its row lock; the
    names of the changed fields, the many-to-many `related` (name, chosen objects) included.
    Changes are measured against the stored row (a ModelForm has already edited the instance),
    which the caller's transaction locks; audited as `action` when anything changed."""
    stored: Any = type(instance).objects.select_for_update().get(pk=instance.pk)  # type: ignore[attr-defined]
    if actor is not None and not can(actor, Capability.PLAN_FIELD, stored.campaign):
        raise PermissionError("plan_field")
    fields.pop("campaign", None)
    if "survey" in fields:
        fields["survey"] = validate_survey(fields["survey"])
    changed = []
    for name, value in fields.items():
        if getattr(stored, name) != value:
            setattr(stored, name, value)
            changed.append(name)
        setattr(instance, name, value)
    if changed:
        stored.save(update_fields=changed)
    if related is not None:
        name, chosen = related
        chosen = list(chosen)
        manager = getattr(stored, name)
        if {obj.pk for obj in chosen} != set(manager.values_list("pk", flat=True)):
            manager.set(chosen)
            changed.append(name)
    if changed:
        record_event(
            action, actor=actor, campaign=stored.campaign, target=stored, data={"fields": changed}
        )
    return changed
