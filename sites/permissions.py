"""Who may edit which site, derived from campaign roles (`cocarde.tenancy.permissions`).

Wagtail is not multi-tenant: its page and media permissions are group rows. Each campaign site
gets an editors group holding page permissions on the site's home page and media permissions on
the site's collection (plus "choose" on the shared national media). Nobody is ever added to
these groups by hand: the policies below treat a user as a member of

- the national editors group (root page, root collection) when they are a national admin;
- a site's editors group when they may `EDIT_SITE` for the campaign that owns the site.

So granting or revoking a campaign role is all it takes, and it is audited there.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q, QuerySet
from wagtail.models import (
    Collection,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Site,
)
from wagtail.permission_policies.base import BasePermissionPolicy
from wagtail.permission_policies.collections import CollectionOwnershipPermissionPolicy
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.permission_policies.sites import SitePermissionPolicy

from cocarde.tenancy.permissions import Capability, campaign_ids_for, is_national_admin

NATIONAL_EDITORS = "Cocarde · national editors"
PAGE_CODENAMES = (
    "add_page",
    "change_page",
    "publish_page",
    "bulk_delete_page",
    "lock_page",
    "unlock_page",
)
SITE_PAGE_CODENAMES = ("add_page", "change_page", "publish_page", "lock_page", "unlock_page")
MEDIA_CODENAMES = {
    "wagtailimages": ("add_image", "change_image", "delete_image", "choose_image"),
    "wagtaildocs": ("add_document", "change_document", "delete_document", "choose_document"),
}
CHOOSE_CODENAMES = {"wagtailimages": ("choose_image",), "wagtaildocs": ("choose_document",)}

_GROUP_CACHE_ATTR = "_cocarde_site_groups"
_national_group_id: int | None = None


def _permissions(app_label: str, codenames: tuple[str, ...]) -> list[Permission]:
    return list(
        Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    )


@transaction.atomic
def grant_site_editing(
    group: Group, home: Page, collection: Collection, shared: Collection | None
) -> None:
    """Page permissions on the site's home, media permissions on its collection, and "choose"
    on the shared national media (images are shared between sites, never duplicated)."""
    GroupPagePermission.objects.bulk_create(
        [
            GroupPagePermission(group=group, page=home, permission=permission)
            for permission in _permissions("wagtailcore", SITE_PAGE_CODENAMES)
        ],
        ignore_conflicts=True,
    )
    rows = [
        GroupCollectionPermission(group=group, collection=collection, permission=permission)
        for app_label, codenames in MEDIA_CODENAMES.items()
        for permission in _permissions(app_label, codenames)
    ]
    if shared is not None and shared.pk != collection.pk:
        rows += [
            GroupCollectionPermission(group=group, collection=shared, permission=permission)
            for app_label, codenames in CHOOSE_CODENAMES.items()
            for permission in _permissions(app_label, codenames)
        ]
    GroupCollectionPermission.objects.bulk_create(rows, ignore_conflicts=True)


def national_editors_group_id() -> int:
    """The group standing for national admins: every page and every media collection."""
    global _national_group_id
    # The cached id is checked by name as well: an id seen in a transaction that was rolled back
    # is handed out again on SQLite (its sequence rolls back too, PostgreSQL's does not), maybe
    # to a site's editors group, whose permissions must not become every national admin's.
    if (
        _national_group_id is not None
        and GroupPagePermission.objects.filter(
            group_id=_national_group_id, group__name=NATIONAL_EDITORS
        ).exists()
    ):
        return _national_group_id
    with transaction.atomic():
        group, _created = Group.objects.get_or_create(name=NATIONAL_EDITORS)
        root = Page.get_first_root_node()
        root_collection = Collection.get_first_root_node()
        if root is not None and not GroupPagePermission.objects.filter(group=group).exists():
            GroupPagePermission.objects.bulk_create(
                [
                    GroupPagePermission(group=group, page=root, permission=permission)
                    for permission in _permissions("wagtailcore", PAGE_CODENAMES)
                ],
                ignore_conflicts=True,
            )
        if (
            root_collection is not None
            and not GroupCollectionPermission.objects.filter(group=group).exists()
        ):
            GroupCollectionPermission.objects.bulk_create(
                [
                    GroupCollectionPermission(group=group, collection=root_collection, permission=p)
                    for app_label, codenames in MEDIA_CODENAMES.items()
                    for p in _permissions(app_label, codenames)
                ],
                ignore_conflicts=True,
            )
    _national_group_id = group.pk
    return group.pk


def derived_group_ids(user: Any) -> list[int]:
    """The editors groups this user acts through, cached on the user for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, _GROUP_CACHE_ATTR, None)
    if cached is None:
        from sites.models import CampaignSite

        if is_national_admin(user):
            cached = [national_editors_group_id()]
        else:
            ids = campaign_ids_for(user, Capability.EDIT_SITE) or set()
            cached = list(
                CampaignSite.objects.filter(
                    campaign_id__in=ids, editors_group__isnull=False
                ).values_list("editors_group_id", flat=True)
            )
        setattr(user, _GROUP_CACHE_ATTR, cached)
    return cached


def editable_site_ids(user: Any) -> set[int] | None:
    """Sites whose pages and settings the user may edit; None means all of them."""
    if is_national_admin(user):
        return None
    from sites.models import CampaignSite

    ids = campaign_ids_for(user, Capability.EDIT_SITE) or set()
    return set(CampaignSite.objects.filter(campaign_id__in=ids).values_list("site_id", flat=True))


def can_edit_page(user: Any, page: Page) -> bool:
    site_ids = editable_site_ids(user)
    if site_ids is None:
        return True
    roots = Site.objects.filter(pk__in=site_ids).values_list("root_page__path", flat=True)
    return any(page.path.startswith(path) for path in roots)


class CampaignPagePermissionPolicy(PagePermissionPolicy):
    def get_all_permissions_for_user(self, user: Any) -> QuerySet[GroupPagePermission]:
        if not user.is_active or user.is_anonymous or user.is_superuser:
            return GroupPagePermission.objects.none()
        return GroupPagePermission.objects.filter(
            Q(group__user=user) | Q(group_id__in=derived_group_ids(user))
        ).select_related("page", "permission")


class CampaignMediaPermissionPolicy(CollectionOwnershipPermissionPolicy):
    def get_all_permissions_for_user(self, user: Any) -> QuerySet[GroupCollectionPermission]:
        if not user.is_active or user.is_anonymous or user.is_superuser:
            return GroupCollectionPermission.objects.none()
        return GroupCollectionPermission.objects.filter(
            Q(group__user=user) | Q(group_id__in=derived_group_ids(user))
        ).select_related("permission", "collection")


class NationalAdminPolicy(BasePermissionPolicy):
    """Sites themselves (hostnames, roots) are managed by the national team only."""

    def user_has_permission(self, user: Any, action: str) -> bool:
        return is_national_admin(user)

    def user_has_permission_for_instance(self, user: Any, action: str, instance: Any) -> bool:
        return is_national_admin(user)

    def instances_user_has_any_permission_for(self, user: Any, actions: Any) -> QuerySet[Any]:
        manager = self.model._default_manager
        return manager.all() if is_national_admin(user) else manager.none()

    def users_with_any_permission(self, actions: Any) -> QuerySet[Any]:
        from django.contrib.auth import get_user_model

        return (
            get_user_model()
            .objects.filter(Q(is_superuser=True) | Q(staff_roles__role="national_admin"))
            .distinct()
        )


class CampaignSiteSettingPolicy(SitePermissionPolicy):
    """Site settings: national admins everywhere, campaign staff on their own site only."""

    def user_has_any_permission(self, user: Any, actions: Any) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and (
            editable_site_ids(user) is None or bool(editable_site_ids(user))
        )

    def user_has_any_permission_for_instance(self, user: Any, actions: Any, instance: Any) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        site_id = instance.pk if isinstance(instance, Site) else instance.site_id
        ids = editable_site_ids(user)
        return ids is None or site_id in ids

    def sites_user_has_any_permission_for(self, user: Any, actions: Any) -> QuerySet[Site]:
        if not getattr(user, "is_authenticated", False):
            return Site.objects.none()
        ids = editable_site_ids(user)
        return Site.objects.all() if ids is None else Site.objects.filter(pk__in=ids)

    def users_with_any_permission_for_instance(self, actions: Any, instance: Any) -> QuerySet[Any]:
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(is_superuser=True)
