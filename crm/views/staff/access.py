"""What a staff member may see: the campaigns of a capability, as ids and as filters."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from cocarde.tenancy.permissions import Capability, campaign_ids_for
from crm.models import (
    Person,
    Tag,
)


def capability_campaign_ids(user: Any, capability: Capability) -> set[int] | None:
    return campaign_ids_for(user, capability)


ALL = ~Q(pk__in=[])  # always true; unlike Q(), it survives being OR-ed with another Q


def in_campaigns(ids: set[int] | None, field: str) -> Q:
    """Rows whose campaign is one of `ids` (None: all)."""
    return ALL if ids is None else Q(**{f"{field}__in": ids})


def sees_sensitive(user: Any, person: Person) -> bool:
    ids = capability_campaign_ids(user, Capability.VIEW_SENSITIVE)
    if ids is None:
        return True
    return person.attachments.filter(campaign_id__in=ids).exists()


def require_any(user: Any, capability: Capability) -> None:
    ids = capability_campaign_ids(user, capability)
    if ids is not None and not ids:
        raise PermissionDenied


def visible_tags(user: Any) -> QuerySet[Tag]:
    ids = capability_campaign_ids(user, Capability.VIEW_PEOPLE)
    return Tag.objects.filter(Q(campaign__isnull=True) | in_campaigns(ids, "campaign_id"))


def page_context(title: str, icon: str = "user", **context: Any) -> dict[str, Any]:
    return {"page_title": title, "header_title": title, "header_icon": icon, **context}


PAGE_SIZE = 50
