"""The registry of every model that references a person, for access exports and erasure.

Each app registers its models (in its AppConfig.ready) with what erasure does to them:
- DELETE: the rows go with the person (database cascade);
- KEEP: the rows are legally required (finance records): the link to the person is cut
  (`person_field` set to NULL) and the row keeps its own copy of what the law requires.

`tests/crm/test_gdpr.py` fails when a model with a relation to Person is not registered, so a
new model cannot be forgotten by the access export or by erasure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Model


class OnErase(StrEnum):
    DELETE = "delete"
    KEEP = "keep"


@dataclass(frozen=True)
class Registration:
    model: type[Model]
    person_field: str
    on_erase: OnErase = OnErase.DELETE
    # The campaign owning a row, when there is one: a campaign's staff export only their rows.
    campaign_field: str | None = None
    # Columns left out of the export (internal hashes that reveal nothing more).
    exclude: tuple[str, ...] = ()
    # Columns holding political opinions (GDPR art. 9).
    sensitive: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.model._meta.label}.{self.person_field}"


_registry: dict[str, Registration] = {}


def register(
    model: type[Model],
    person_field: str,
    *,
    on_erase: OnErase = OnErase.DELETE,
    campaign_field: str | None = None,
    exclude: tuple[str, ...] = (),
    sensitive: tuple[str, ...] = (),
) -> None:
    registration = Registration(model, person_field, on_erase, campaign_field, exclude, sensitive)
    _registry[registration.key] = registration


def registrations() -> list[Registration]:
    return list(_registry.values())


# Erasure also reaches rows that name a person by address rather than by a foreign key (a
# message kept in the outbox, a provider's event payload). Each app registers a function
# called with (person, their email addresses, their phone numbers) just before the person is
# deleted; it returns how many rows it erased.
Eraser = Callable[[Any, list[str], list[str]], int]
_erasers: dict[str, Eraser] = {}


def register_eraser(name: str, eraser: Eraser) -> None:
    _erasers[name] = eraser


def erasers() -> dict[str, Eraser]:
    return dict(_erasers)


def is_registered(model: type[Model], field_name: str) -> bool:
    return f"{model._meta.label}.{field_name}" in _registry


def register_crm_models() -> None:
    from crm import models as m

    register(m.EmailAddress, "person", exclude=("suppression_key",))
    register(m.PhoneNumber, "person", exclude=("suppression_key",))
    register(m.ExternalId, "person", campaign_field="campaign")
    register(m.ElectoralRegistration, "person", campaign_field="campaign")
    register(m.CampaignAttachment, "person", campaign_field="campaign")
    register(m.PersonTag, "person", campaign_field="tag__campaign")
    register(m.CustomFieldValue, "person", campaign_field="field__campaign")
    register(m.Consent, "person", campaign_field="campaign")
    register(m.Action, "person", campaign_field="campaign", sensitive=("data",))
    register(m.Note, "person", campaign_field="campaign", sensitive=("text",))
    register(m.DuplicateCandidate, "person_a")
    register(m.DuplicateCandidate, "person_b")
    register(m.MergeRecord, "survivor", sensitive=("snapshot",))
    register(m.ImportChange, "person", campaign_field="run__campaign", sensitive=("data",))
    register(m.SegmentMember, "person", campaign_field="segment__campaign")
