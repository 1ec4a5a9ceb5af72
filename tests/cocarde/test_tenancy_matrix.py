"""Roles x campaigns: who may act for which campaign, and how.

The expectations are written out by hand, not derived from ROLE_CAPABILITIES, so a change in
the rules fails here until someone decides it was intended.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from cocarde.tenancy import services
from cocarde.tenancy.models import Campaign, StaffRole
from cocarde.tenancy.permissions import (
    Capability,
    campaigns_for,
    can,
    has_admin_access,
    is_national_admin,
    scope,
)

Role = StaffRole.Role
C = Capability

# Campaigns: N (national), A and B (candidates), X (candidate, archived).
CAMPAIGNS = ["N", "A", "B", "X"]

# user key -> campaigns on which each capability holds.
EVERYWHERE = set(CAMPAIGNS)
EXPECTED: dict[str, dict[Capability, set[str]]] = {
    "superuser": dict.fromkeys(C, EVERYWHERE),
    "national_admin": dict.fromkeys(C, EVERYWHERE),
    "national_staff": {
        C.VIEW_CAMPAIGN: {"N"},
        C.VIEW_PEOPLE: {"N"},
        C.VIEW_SENSITIVE: {"N"},
        C.EXPORT_PEOPLE: set(),
        C.MANAGE_CAMPAIGN: set(),
        C.MANAGE_DONATIONS: set(),
        C.CANVASS: {"N"},
    },
    "manager_A": {
        C.VIEW_CAMPAIGN: {"A"},
        C.VIEW_PEOPLE: {"A"},
        C.VIEW_SENSITIVE: {"A"},
        C.EXPORT_PEOPLE: {"A"},
        C.MANAGE_CAMPAIGN: {"A"},
        C.MANAGE_DONATIONS: {"A"},
        C.CANVASS: {"A"},
    },
    "staff_A": {
        C.VIEW_CAMPAIGN: {"A"},
        C.VIEW_PEOPLE: {"A"},
        C.VIEW_SENSITIVE: {"A"},
        C.EXPORT_PEOPLE: set(),
        C.MANAGE_CAMPAIGN: set(),
        C.MANAGE_DONATIONS: set(),
        C.CANVASS: {"A"},
    },
    "treasurer_A": {
        C.VIEW_CAMPAIGN: {"A"},
        C.VIEW_PEOPLE: {"A"},
        C.VIEW_SENSITIVE: set(),
        C.EXPORT_PEOPLE: set(),
        C.MANAGE_CAMPAIGN: set(),
        C.MANAGE_DONATIONS: {"A"},
        C.CANVASS: set(),
    },
    "canvasser_A": {
        C.VIEW_CAMPAIGN: set(),
        C.VIEW_PEOPLE: set(),
        C.VIEW_SENSITIVE: set(),
        C.EXPORT_PEOPLE: set(),
        C.MANAGE_CAMPAIGN: set(),
        C.MANAGE_DONATIONS: set(),
        C.CANVASS: {"A"},
    },
    "manager_B_staff_A": {
        C.VIEW_CAMPAIGN: {"A", "B"},
        C.VIEW_PEOPLE: {"A", "B"},
        C.VIEW_SENSITIVE: {"A", "B"},
        C.EXPORT_PEOPLE: {"B"},
        C.MANAGE_CAMPAIGN: {"B"},
        C.MANAGE_DONATIONS: {"B"},
        C.CANVASS: {"A", "B"},
    },
    "manager_X": {cap: set() for cap in C},  # archived campaign: the role no longer applies
    "inactive_manager_A": {cap: set() for cap in C},
    "supporter": {cap: set() for cap in C},
    "anonymous": {cap: set() for cap in C},
}
ADMIN_ACCESS = {
    "superuser": True,
    "national_admin": True,
    "national_staff": True,
    "manager_A": True,
    "staff_A": True,
    "treasurer_A": True,
    "canvasser_A": False,
    "manager_B_staff_A": True,
    "manager_X": False,
    "inactive_manager_A": False,
    "supporter": False,
    "anonymous": False,
}


@pytest.fixture
def world(make_campaign, make_user):
    campaigns = {
        "N": make_campaign("National", slug="n", kind=Campaign.Kind.NATIONAL),
        "A": make_campaign("A"),
        "B": make_campaign("B"),
        "X": make_campaign("X", is_active=False),
    }
    grants = {
        "national_admin": [("N", Role.NATIONAL_ADMIN)],
        "national_staff": [("N", Role.STAFF)],
        "manager_A": [("A", Role.MANAGER)],
        "staff_A": [("A", Role.STAFF)],
        "treasurer_A": [("A", Role.TREASURER)],
        "canvasser_A": [("A", Role.CANVASSER)],
        "manager_B_staff_A": [("B", Role.MANAGER), ("A", Role.STAFF)],
        "manager_X": [("X", Role.MANAGER)],
        "inactive_manager_A": [("A", Role.MANAGER)],
        "supporter": [],
    }
    users = {"superuser": make_user(is_superuser=True), "anonymous": AnonymousUser()}
    for key, roles in grants.items():
        users[key] = make_user(is_active=key != "inactive_manager_A")
        for campaign_key, role in roles:
            services.grant_role(users[key], campaigns[campaign_key], role, actor=None)
    return users, campaigns


@pytest.mark.parametrize("user_key", EXPECTED)
def test_can(world, user_key):
    """The whole row of the matrix for one user: capability -> campaigns where it holds."""
    users, campaigns = world
    actual = {
        capability: {key for key in CAMPAIGNS if can(users[user_key], capability, campaigns[key])}
        for capability in EXPECTED[user_key]
    }
    assert actual == EXPECTED[user_key]


@pytest.mark.parametrize("user_key", EXPECTED)
def test_campaigns_for_lists_exactly_the_allowed_campaigns(world, user_key):
    users, campaigns = world
    for capability, allowed in EXPECTED[user_key].items():
        listed = set(campaigns_for(users[user_key], capability).values_list("slug", flat=True))
        assert listed == {campaigns[key].slug for key in allowed}, capability


@pytest.mark.parametrize("user_key", EXPECTED)
def test_scope_filters_campaign_owned_rows(world, user_key):
    users, campaigns = world
    roles = scope(StaffRole.objects.all(), users[user_key], C.VIEW_PEOPLE)
    seen = {role.campaign_id for role in roles}
    allowed = {campaigns[key].pk for key in EXPECTED[user_key][C.VIEW_PEOPLE]}
    all_with_roles = set(StaffRole.objects.values_list("campaign_id", flat=True))
    assert seen == allowed & all_with_roles


@pytest.mark.parametrize(("user_key", "expected"), ADMIN_ACCESS.items())
def test_admin_access(world, user_key, expected):
    users, _ = world
    assert has_admin_access(users[user_key]) is expected
    if user_key != "anonymous":
        assert users[user_key].has_perm("wagtailadmin.access_admin") is expected


def test_national_admin_needs_a_national_team(world, make_user):
    _, campaigns = world
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.grant_role(make_user(), campaigns["A"], Role.NATIONAL_ADMIN, actor=None)
    assert is_national_admin(world[0]["national_admin"])


def test_roles_are_read_once_per_request(world, django_assert_num_queries):
    users, campaigns = world
    user = users["manager_B_staff_A"]
    with django_assert_num_queries(1):
        for campaign in campaigns.values():
            for capability in C:
                can(user, capability, campaign)
