"""Wagtail permission policies that defer to `cocarde.tenancy.permissions`.

Wagtail asks a policy whether a user may add, change, view or delete; these answers come from
campaign roles, so the admin never grants more than the tenancy layer allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from wagtail.permission_policies.base import BasePermissionPolicy

from cocarde.tenancy.models import Campaign, StaffRole
from cocarde.tenancy.permissions import Capability, campaigns_for, can, is_national_admin, scope


class CampaignPermissionPolicy(BasePermissionPolicy):
    """National admins create campaigns; managers edit theirs; nobody deletes (archive instead)."""

    def __init__(self) -> None:
        super().__init__(Campaign)

    def user_has_permission(self, user: Any, action: str) -> bool:
        if action == "add":
            return is_national_admin(user)
        if action == "change":
            return campaigns_for(user, Capability.MANAGE_CAMPAIGN).exists()
        if action == "view":
            return campaigns_for(user, Capability.VIEW_CAMPAIGN).exists()
        return False

    def user_has_permission_for_instance(self, user: Any, action: str, instance: Campaign) -> bool:
        if action == "change":
            return can(user, Capability.MANAGE_CAMPAIGN, instance)
        if action == "view":
            return can(user, Capability.VIEW_CAMPAIGN, instance)
        return False

    def instances_user_has_any_permission_for(
        self, user: Any, actions: Iterable[str]
    ) -> QuerySet[Campaign]:
        capability = (
            Capability.MANAGE_CAMPAIGN if "view" not in actions else Capability.VIEW_CAMPAIGN
        )
        return campaigns_for(user, capability)

    def users_with_any_permission(self, actions: Iterable[str]) -> QuerySet[Any]:
        return get_user_model().objects.filter(staff_roles__isnull=False).distinct()


class StaffRolePermissionPolicy(BasePermissionPolicy):
    """Whoever manages a campaign manages its team; only national admins name national admins."""

    def __init__(self) -> None:
        super().__init__(StaffRole)

    def user_has_permission(self, user: Any, action: str) -> bool:
        return campaigns_for(user, Capability.MANAGE_CAMPAIGN).exists()

    def user_has_permission_for_instance(self, user: Any, action: str, instance: StaffRole) -> bool:
        if instance.role == StaffRole.Role.NATIONAL_ADMIN and not is_national_admin(user):
            return action == "view" and can(user, Capability.MANAGE_CAMPAIGN, instance.campaign_id)
        return action in {"view", "delete"} and can(
            user, Capability.MANAGE_CAMPAIGN, instance.campaign_id
        )

    def instances_user_has_any_permission_for(
        self, user: Any, actions: Iterable[str]
    ) -> QuerySet[StaffRole]:
        return scope(StaffRole.objects.all(), user, Capability.MANAGE_CAMPAIGN)

    def users_with_any_permission(self, actions: Iterable[str]) -> QuerySet[Any]:
        return get_user_model().objects.filter(staff_roles__isnull=False).distinct()
