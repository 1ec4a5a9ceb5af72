"""The one place that decides which campaigns a user may act for, and how.

Every staff query over people, donations, deliveries or canvass results is scoped with
`campaign_ids_for()` / `scope()`; every staff action checks `can()`. Nothing else in the code
base reads `StaffRole` to make an access decision.

Rules:
- a superuser, or a national admin of an active national team, may do everything everywhere;
- any other role applies to its own campaign only, and only while that campaign is active;
- a canvasser reaches no staff area: only the doors assigned to them (canvassing app).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Model, QuerySet

from cocarde.tenancy.models import Campaign, StaffRole

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from cocarde.accounts.models import User

    AnyUser = User | AnonymousUser

M = TypeVar("M", bound=Model)
Role = StaffRole.Role


class Capability(StrEnum):
    VIEW_CAMPAIGN = "view_campaign"  # see the campaign and its dashboard in the admin
    MANAGE_CAMPAIGN = "manage_campaign"  # edit its details and its team
    VIEW_PEOPLE = "view_people"
    EDIT_PEOPLE = "edit_people"
    VIEW_SENSITIVE = "view_sensitive"  # support level, notes: political opinions (GDPR art. 9)
    IMPORT_PEOPLE = "import_people"
    EXPORT_PEOPLE = "export_people"
    EDIT_SITE = "edit_site"
    SEND_MESSAGES = "send_messages"
    VIEW_DONATIONS = "view_donations"
    MANAGE_DONATIONS = "manage_donations"  # offline gifts, refunds, receipts
    PLAN_FIELD = "plan_field"  # turfs, walk lists, phone campaigns
    CANVASS = "canvass"  # use the canvasser app on assigned turfs


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.NATIONAL_ADMIN: frozenset(Capability),
    Role.MANAGER: frozenset(Capability),
    Role.STAFF: frozenset(
        {
            Capability.VIEW_CAMPAIGN,
            Capability.VIEW_PEOPLE,
            Capability.EDIT_PEOPLE,
            Capability.VIEW_SENSITIVE,
            Capability.EDIT_SITE,
            Capability.SEND_MESSAGES,
            Capability.VIEW_DONATIONS,
            Capability.PLAN_FIELD,
            Capability.CANVASS,
        }
    ),
    Role.TREASURER: frozenset(
        {
            Capability.VIEW_CAMPAIGN,
            Capability.VIEW_PEOPLE,
            Capability.VIEW_DONATIONS,
            Capability.MANAGE_DONATIONS,
        }
    ),
    Role.CANVASSER: frozenset({Capability.CANVASS}),
}

# Capabilities that open the staff area (the Wagtail admin).
ADMIN_CAPABILITIES = frozenset(Capability) - {Capability.CANVASS}

_CACHE_ATTR = "_cocarde_roles"


def _roles(user: AnyUser) -> list[tuple[int, str, bool]]:
    """(campaign id, role, campaign is national) for the user's roles on active campaigns.

    Cached on the user object, so one request asks the database once.
    """
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(
            StaffRole.objects.filter(user=user, campaign__is_active=True).values_list(
                "campaign_id", "role", "campaign__kind"
            )
        )
        cached = [(cid, role, kind == Campaign.Kind.NATIONAL) for cid, role, kind in cached]
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_roles(user: Any) -> None:
    """Drop the cached roles after they changed (see services.grant_role)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def is_national_admin(user: AnyUser) -> bool:
    if user.is_authenticated and user.is_active and user.is_superuser:
        return True
    return any(role == Role.NATIONAL_ADMIN and national for _, role, national in _roles(user))


def campaign_ids_for(user: AnyUser, capability: Capability) -> set[int] | None:
    """Campaign ids the user may exercise `capability` for; None means every campaign."""
    if is_national_admin(user):
        return None
    return {cid for cid, role, _ in _roles(user) if capability in ROLE_CAPABILITIES[role]}


def campaigns_for(
    user: AnyUser, capability: Capability = Capability.VIEW_CAMPAIGN
) -> QuerySet[Campaign]:
    ids = campaign_ids_for(user, capability)
    campaigns = Campaign.objects.all()
    return campaigns if ids is None else campaigns.filter(pk__in=ids)


def can(user: AnyUser, capability: Capability, campaign: Campaign | int) -> bool:
    campaign_id = campaign if isinstance(campaign, int) else campaign.pk
    ids = campaign_ids_for(user, capability)
    return ids is None or campaign_id in ids


def scope(
    queryset: QuerySet[M], user: AnyUser, capability: Capability, campaign_field: str = "campaign"
) -> QuerySet[M]:
    """Restrict a queryset of campaign-owned rows to what the user may see."""
    ids = campaign_ids_for(user, capability)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{campaign_field}__in": ids})


def has_admin_access(user: AnyUser) -> bool:
    """Whether the user may open the staff area at all."""
    if is_national_admin(user):
        return True
    return any(ROLE_CAPABILITIES[role] & ADMIN_CAPABILITIES for _, role, _ in _roles(user))
