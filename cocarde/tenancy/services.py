"""State changes of campaigns, staff accounts and roles. Each one is audited."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction

from cocarde.accounts.models import User
from cocarde.audit.services import record_event
from cocarde.tenancy.models import Campaign, StaffRole
from cocarde.tenancy.permissions import forget_roles

CAMPAIGN_DETAIL_FIELDS = frozenset(
    f.name
    for f in Campaign._meta.get_fields()
    if getattr(f, "editable", False) and f.name not in {"id", "created_at", "updated_at"}
)


@transaction.atomic
def create_campaign(*, actor: Any, name: str, slug: str, **details: Any) -> Campaign:
    unknown = set(details) - CAMPAIGN_DETAIL_FIELDS
    if unknown:
        raise TypeError(f"Unknown campaign fields: {', '.join(sorted(unknown))}")
    campaign = Campaign(name=name, slug=slug, **details)
    campaign.full_clean()
    campaign.save()
    record_event("campaign.create", actor=actor, campaign=campaign, target=campaign)
    return campaign


@transaction.atomic
def update_campaign(campaign: Campaign, *, actor: Any, **changes: Any) -> Campaign:
    unknown = set(changes) - CAMPAIGN_DETAIL_FIELDS
    if unknown:
        raise TypeError(f"Unknown campaign fields: {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(campaign, field, value)
    campaign.full_clean()
    campaign.save()
    record_event(
        "campaign.update",
        actor=actor,
        campaign=campaign,
        target=campaign,
        data={"fields": sorted(changes)},
    )
    return campaign


@transaction.atomic
def create_user(
    email: str,
    *,
    actor: Any,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email_verified: bool = False,
) -> User:
    """An account whose address staff vouched for (email_verified) or that must confirm it."""
    user = User.objects.create_user(email, password, first_name=first_name, last_name=last_name)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=email_verified)
    record_event("user.create", actor=actor, target=user)
    return user


@transaction.atomic
def grant_role(user: User, campaign: Campaign, role: str, *, actor: Any) -> StaffRole:
    staff_role = StaffRole(user=user, campaign=campaign, role=role, granted_by=_user_or_none(actor))
    staff_role.full_clean(validate_constraints=False)
    staff_role, created = StaffRole.objects.get_or_create(
        user=user,
        campaign=campaign,
        role=role,
        defaults={"granted_by": staff_role.granted_by},
    )
    if created:
        record_event("role.grant", actor=actor, campaign=campaign, target=user, data={"role": role})
    forget_roles(user)
    return staff_role


@transaction.atomic
def revoke_role(user: User, campaign: Campaign, role: str, *, actor: Any) -> bool:
    deleted, _ = StaffRole.objects.filter(user=user, campaign=campaign, role=role).delete()
    if deleted:
        record_event(
            "role.revoke", actor=actor, campaign=campaign, target=user, data={"role": role}
        )
    forget_roles(user)
    return bool(deleted)


@transaction.atomic
def add_team_member(
    email: str,
    campaign: Campaign,
    role: str,
    *,
    actor: Any,
    first_name: str = "",
    last_name: str = "",
) -> tuple[User, bool]:
    """Grant `role` to the account with this address, creating it if needed.

    Returns the user and whether the account is new (the caller then sends the invitation,
    which lets the person choose a password).
    """
    user = User.objects.filter(email__iexact=email.strip()).first()
    invited = user is None
    if user is None:
        user = create_user(
            email,
            actor=actor,
            first_name=first_name,
            last_name=last_name,
            email_verified=True,  # staff vouch for it; the invitation link proves it
        )
    grant_role(user, campaign, role, actor=actor)
    return user, invited


def _user_or_none(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None
