"""Read queries shared by the admin, the exports, the commands and other apps.

Staff visibility of people follows campaign attachments, decided by `cocarde.tenancy.permissions`:
a person is visible to a user for a capability when one of the campaigns that know the person is
one the user holds that capability for.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from cocarde.tenancy.permissions import Capability, campaign_ids_for
from crm.models import (
    Action,
    CampaignAttachment,
    Consent,
    EmailAddress,
    Person,
    PhoneNumber,
    Suppression,
)
from crm.models.activity import WEB_ACTION_TYPES
from crm.models.people import ContactStatus
from crm.normalize import search_key


def people_for(user: Any, capability: Capability = Capability.VIEW_PEOPLE) -> QuerySet[Person]:
    """Every person the user may see (or act on) with this capability."""
    ids = campaign_ids_for(user, capability)
    people = Person.objects.all()
    if ids is None:
        return people
    if not ids:
        return people.none()
    return people.filter(
        Exists(CampaignAttachment.objects.filter(person=OuterRef("pk"), campaign_id__in=ids))
    )


def point_person_choices(user: Any) -> QuerySet[Any]:
    """Team members who may follow people of the campaigns this user edits."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True, staff_roles__isnull=False)
    ids = campaign_ids_for(user, Capability.EDIT_PEOPLE)
    if ids is not None:
        users = users.filter(staff_roles__campaign_id__in=ids)
    return users.distinct().order_by("last_name", "first_name", "email")


def get_person_for(user: Any, pk: Any, capability: Capability = Capability.VIEW_PEOPLE) -> Person:
    """The person, or 404 when it does not exist or belongs to campaigns the user cannot see."""
    try:
        return people_for(user, capability).get(pk=int(pk))
    except (Person.DoesNotExist, ValueError, TypeError) as error:
        raise Http404 from error


def visible_campaign_ids(
    user: Any, capability: Capability = Capability.VIEW_PEOPLE
) -> set[int] | None:
    return campaign_ids_for(user, capability)


def search_people(people: QuerySet[Person], query: str) -> QuerySet[Person]:
    """Accent- and case-insensitive search on names, emails, phones and commune.

    Every word must appear; a phone typed as '06 12 34 56 78' is matched as one word.
    """
    text = (query or "").strip()
    if not text:
        return people
    digits = "".join(c for c in text if c.isdigit())
    if digits and len(digits) >= 6 and len(digits) >= len(text.replace(" ", "")) - 1:
        needle = digits[1:] if digits.startswith("0") else digits
        return people.filter(search_text__contains=needle)
    if "@" in text:
        return people.filter(search_text__contains=text.lower())
    for word in search_key(text).lower().split():
        people = people.filter(search_text__contains=word)
    return people


def suppressed(campaign_id: int | None, channel: str) -> Q:
    """People with a contact point suppressed for this campaign (or everywhere) and channel."""
    applies = Q(campaign__isnull=True) | Q(campaign_id=campaign_id)
    applies &= Q(channel="") | Q(channel=channel)
    contacts: QuerySet[Any] = (
        EmailAddress.objects.all() if channel == "email" else PhoneNumber.objects.all()
    )
    keys = contacts.filter(person=OuterRef(OuterRef("pk"))).values("suppression_key")
    return Q(Exists(Suppression.objects.filter(applies, key_hash__in=keys)))


def active_consents(
    campaign: int | list[int] | None, channel: str, purpose: str
) -> QuerySet[Consent]:
    """Active consents (given, confirmed when double opt-in applies, not withdrawn) for this
    channel and purpose, to this campaign (or one of these; None: any)."""
    consents = Consent.objects.filter(channel=channel, purpose=purpose, withdrawn_at__isnull=True)
    if isinstance(campaign, list):
        consents = consents.filter(campaign_id__in=campaign)
    elif campaign is not None:
        consents = consents.filter(campaign_id=campaign)
    return consents.filter(Q(confirmation_required=False) | Q(confirmed_at__isnull=False))


def active_consent(campaign: int | list[int] | None, channel: str, purpose: str) -> Q:
    """People with an active consent (see `active_consents`)."""
    return Q(Exists(active_consents(campaign, channel, purpose).filter(person=OuterRef("pk"))))


def reachable(channel: str) -> Q:
    """People with a contact point that works for this channel: a valid email address; a valid
    mobile for SMS; a valid number for calls; a postal address for post."""
    valid = ContactStatus.VALID
    if channel == "email":
        return Q(Exists(EmailAddress.objects.filter(person=OuterRef("pk"), status=valid)))
    if channel == "sms":
        mobiles = PhoneNumber.objects.filter(
            person=OuterRef("pk"), status=valid, kind=PhoneNumber.Kind.MOBILE
        )
        return Q(Exists(mobiles))
    if channel == "phone":
        return Q(Exists(PhoneNumber.objects.filter(person=OuterRef("pk"), status=valid)))
    return (~Q(street_name="") | ~Q(locality="")) & (~Q(postcode="") | ~Q(commune_name=""))


def contactable_q(campaign_id: int, channel: str, purpose: str | None) -> Q:
    """The condition behind `contactable()`; without a purpose, consent is not required."""
    condition = reachable(channel)
    if purpose:
        condition &= active_consent(campaign_id, channel, purpose)
    if channel in ("email", "sms", "phone"):
        condition &= ~suppressed(campaign_id, channel)
    return condition


def contactable(campaign_id: int, channel: str, purpose: str) -> QuerySet[Person]:
    """People this campaign may contact on this channel for this purpose, in one SQL query
    (EXISTS semi-joins): an active (confirmed, not withdrawn) consent, a contact point that
    works (not bounced), and no suppression of their address/number. Segments use the same
    condition (`crm.segments` criteria `consent` and `contactable`)."""
    return Person.objects.filter(contactable_q(campaign_id, channel, purpose))


def recent_web_actions(user: Any) -> QuerySet[Action]:
    """Answers to the site forms of the campaigns this user may see, newest first."""
    ids = campaign_ids_for(user, Capability.VIEW_PEOPLE)
    actions = (
        Action.objects.filter(type__in=WEB_ACTION_TYPES, source_page_id__isnull=False)
        .select_related("person", "campaign")
        .order_by("-occurred_at", "-pk")
    )
    return actions if ids is None else actions.filter(campaign_id__in=ids)


def count_web_actions(page_id: int, action_type: str | None = None) -> int:
    """The live counter of a site page (signatures, signups…)."""
    actions = Action.objects.filter(source_page_id=page_id)
    if action_type:
        actions = actions.filter(type=action_type)
    return actions.values("person_id").distinct().count()
