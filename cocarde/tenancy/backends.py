"""Admin access follows campaign roles, so it is derived, never synced into groups."""

from __future__ import annotations

from typing import Any

from cocarde.tenancy.permissions import has_admin_access

DERIVED_PERMISSIONS = frozenset({"wagtailadmin.access_admin"})


class CampaignRoleBackend:
    """Grants the Wagtail admin's entry permission to anyone holding a staff role."""

    def authenticate(self, request: Any, **credentials: Any) -> None:
        return None  # this backend never signs anyone in

    def has_perm(self, user: Any, perm: str, obj: Any = None) -> bool:
        return obj is None and perm in DERIVED_PERMISSIONS and has_admin_access(user)

    def get_all_permissions(self, user: Any, obj: Any = None) -> set[str]:
        if obj is None and has_admin_access(user):
            return set(DERIVED_PERMISSIONS)
        return set()
